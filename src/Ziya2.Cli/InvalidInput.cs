using System.Text.Json;
using Ziya2.Kernel.Configuration;
using Ziya2.Kernel.Hosting;
using Ziya2.Kernel.Plugins;

namespace Ziya2.Cli;

/// <summary>
/// One policy for the file-and-option commands: problems with what the user gave us (bad options, damaged files,
/// unknown components — also when a component's constructor reports them) print one line and exit 2; anything else is
/// a bug and propagates with its stack trace.
/// </summary>
static class InvalidInput
{
    public static int Guard(Func<int> body)
    {
        try { return body(); }
        catch (Exception e) when (IsInvalidInput(e) || e is ComponentConstructionException && IsInvalidInput(e.InnerException?.GetBaseException()))
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }
    }

    static bool IsInvalidInput(Exception? e) =>
        e is ConfigException or ComponentNotFoundException or InvalidDataException or ArgumentException or FormatException or JsonException or IOException;
}

/// <summary>Builds <c>--set</c>-style overrides for values the CLI itself supplies.</summary>
static class Overrides
{
    /// <summary><c>key="value"</c> with the value as a TOML basic string, so any path survives the round trip.</summary>
    public static string Text(string key, string value) => $"{key}=\"{value.Replace("\\", "\\\\").Replace("\"", "\\\"")}\"";
}
