using SharpFuzz;

namespace Ziya2.Fuzz.Tests;

/// <summary>
/// This assembly as the program afl-fuzz runs (bench/fuzz.sh): <c>Ziya2.Fuzz.Tests TARGET</c> reads inputs through
/// SharpFuzz's out-of-process runner and feeds them to <see cref="FuzzTargets"/>; a clear refusal is a normal end,
/// anything else a crash afl records.
/// </summary>
public static class FuzzProgram
{
    public static int Main(string[] args)
    {
        if (args is not [var target] || !FuzzTargets.All.ContainsKey(target))
        {
            Console.Error.WriteLine($"usage: Ziya2.Fuzz.Tests TARGET  ({string.Join(", ", FuzzTargets.All.Keys)})");
            return 2;
        }
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            FuzzTargets.Run(target, buffer.ToArray());
        });
        return 0;
    }
}
