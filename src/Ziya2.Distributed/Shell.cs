using System.Diagnostics;

namespace Ziya2.Distributed;

/// <summary>
/// What launching work on a cluster needs of the shell: quoting words for bash scripts (sbatch, run.sh), the command
/// that started this ziya2, running a launcher or scheduler tool (mpiexec, sbatch, kubectl).
/// </summary>
public static class Shell
{
    /// <summary>A bash word: single-quoted unless it is plainly safe.</summary>
    public static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,@%+".Contains(c)) ? word : "'" + word.Replace("'", "'\\''") + "'";

    /// <summary>How this process was started — the apphost, or <c>dotnet ziya2.dll</c> — for workers to start the same.</summary>
    public static string CurrentCommand()
    {
        var process = Environment.ProcessPath ?? "ziya2";
        var entry = System.Reflection.Assembly.GetEntryAssembly()?.Location;
        return Path.GetFileNameWithoutExtension(process) == "dotnet" && entry is { Length: > 0 } ? $"{Quote(process)} {Quote(entry)}" : Quote(process);
    }

    /// <summary>Runs <paramref name="file"/> to its end; a missing program is an <see cref="IOException"/> that says so.</summary>
    public static (int Code, string Out, string Err) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        Process process;
        try { process = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e) { throw new IOException($"cannot run {file} ({e.Message}); is it installed here?", e); }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            return (process.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
