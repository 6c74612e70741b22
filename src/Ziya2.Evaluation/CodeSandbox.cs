using System.Diagnostics;
using System.Text;

namespace Ziya2.Evaluation;

/// <summary>
/// Where model-written Python runs. <see cref="Find"/> gives a bubblewrap sandbox: no network (its own network
/// namespace), no view of the machine but a read-only <c>/usr</c> (so no home, no run directory, no <c>/etc</c>), a
/// private tmpfs <c>/tmp</c> as the only writable place, its own process and IPC namespaces, an empty environment, and
/// limits on CPU time, address space (4 GiB), processes, file size and open files, under user <c>nobody</c> when
/// started as root (root's process count has no limit). The program arrives on standard input; its output is capped.
/// <see cref="Unconfined"/> is the old limited subprocess — it contains mistakes, not malice — for machines without
/// bubblewrap, and only when asked for by name (<c>--unsafe-exec</c>, <c>unsafe_exec = true</c>).
/// </summary>
public sealed class CodeSandbox
{
    const long AddressSpace = 4L << 30, FileSize = 64L << 20;
    const int Processes = 64, OpenFiles = 64, OutputChars = 64 * 1024;
    readonly Func<int, IReadOnlyList<string>> _command;   // CPU seconds → argv

    CodeSandbox(string description, bool confined, Func<int, IReadOnlyList<string>> command) => (Description, Confined, _command) = (description, confined, command);

    /// <summary>What runs the code, for logs and reports.</summary>
    public string Description { get; }

    /// <summary>Whether the code is confined (bubblewrap) or only limited.</summary>
    public bool Confined { get; }

    /// <summary>
    /// The bubblewrap sandbox, or null with <paramref name="why"/> when this machine cannot make one (no <c>bwrap</c>, no
    /// Python under <c>/usr</c>, no <c>prlimit</c>).
    /// </summary>
    public static CodeSandbox? Find(out string? why)
    {
        why = null;
        // $ZIYA2_BWRAP names the bubblewrap to use (one that is not there counts as none); else bwrap on PATH.
        var bwrap = Environment.GetEnvironmentVariable("ZIYA2_BWRAP") is { } chosen ? (File.Exists(chosen) ? chosen : null) : OnPath("bwrap");
        var python = new[] { "/usr/bin/python3", "/usr/local/bin/python3" }.FirstOrDefault(File.Exists);
        if (bwrap is null) why = "bubblewrap (bwrap) is not installed (Debian: apt-get install bubblewrap; or point ZIYA2_BWRAP at it)";
        else if (python is null) why = "no python3 under /usr, the only part of the machine the sandbox shows (Debian: apt-get install python3)";
        else if (!File.Exists("/usr/bin/prlimit")) why = "prlimit (util-linux) is missing: the sandbox's limits need it";
        if (why is not null) return null;
        string? setpriv = Environment.IsPrivilegedProcess ? OnPath("setpriv") : null;
        return new CodeSandbox($"bubblewrap ({bwrap}{(setpriv is not null ? ", as nobody" : "")}), {python}", confined: true, cpu =>
        {
            var argv = new List<string>();
            // As root, RLIMIT_NPROC is not enforced: the code runs as nobody, whose processes it does limit.
            if (setpriv is not null) argv.AddRange([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]);
            argv.AddRange([bwrap!, "--unshare-all", "--die-with-parent", "--new-session",
                "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
                "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--chdir", "/tmp",
                "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp",
                "--", "/usr/bin/prlimit", $"--cpu={cpu}", $"--as={AddressSpace}", $"--nproc={(setpriv is not null ? Processes : Processes + ProcessesOfThisUser())}",
                $"--fsize={FileSize}", $"--nofile={OpenFiles}", "--core=0", "--", python!, "-I", "-B", "-"]);
            return argv;
        });
    }

    /// <summary>Python in a plain subprocess with CPU and memory limits, an empty environment and a scratch directory: not a sandbox.</summary>
    public static CodeSandbox Unconfined(string python) => new($"unconfined subprocess ({python}; --unsafe-exec)", confined: false, cpu =>
        ["bash", "-c", $"ulimit -t {cpu}; ulimit -v {AddressSpace / 1024}; exec \"$0\" -I -B -", python]);

    /// <summary>Runs <paramref name="program"/>; passed when it exits 0 within <paramref name="timeout"/>.</summary>
    public ExecutionResult Run(string program, TimeSpan timeout)
    {
        // Unconfined code at least starts in an empty directory of its own; the sandbox has its private /tmp.
        var scratch = Confined ? null : Directory.CreateTempSubdirectory("ziya2-code-").FullName;
        try { return Run(program, timeout, scratch); }
        finally { if (scratch is not null) try { Directory.Delete(scratch, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } }
    }

    ExecutionResult Run(string program, TimeSpan timeout, string? directory)
    {
        var argv = _command(Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds)));
        var psi = new ProcessStartInfo(argv[0], argv.Skip(1)) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        if (directory is not null) psi.WorkingDirectory = directory;
        psi.Environment.Clear();
        psi.Environment["PATH"] = "/usr/bin:/bin";
        using var process = Process.Start(psi)!;
        var stdout = Capped(process.StandardOutput);
        var stderr = Capped(process.StandardError);
        try
        {
            process.StandardInput.Write(program);
            process.StandardInput.Close();
        }
        catch (IOException) { }   // it ended before reading all of it: its exit says why
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return new ExecutionResult(false, "timed out");
        }
        if (process.ExitCode == 0) return new ExecutionResult(true, "passed");
        // A child the program left behind may still hold stderr open: wait for it briefly, never forever.
        var message = stderr.Wait(TimeSpan.FromSeconds(2)) ? stderr.Result : "";
        var last = message.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? $"exit {process.ExitCode}";
        return new ExecutionResult(false, last.Length > 200 ? last[..200] : last);
    }

    /// <summary>A stream read to its end, keeping only its last characters: a program that prints gigabytes costs us nothing.</summary>
    static Task<string> Capped(StreamReader reader) => Task.Run(async () =>
    {
        var kept = new StringBuilder();
        var buffer = new char[8192];
        for (int n; (n = await reader.ReadAsync(buffer)) > 0;)
        {
            kept.Append(buffer, 0, n);
            if (kept.Length > OutputChars) kept.Remove(0, kept.Length - OutputChars);
        }
        return kept.ToString();
    });

    static string? OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin").Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    /// <summary>Processes of this user now: the limit counts them too, so the code gets its own allowance above them.</summary>
    static int ProcessesOfThisUser()
    {
        var uid = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))?.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1);
        int count = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            try
            {
                if (int.TryParse(Path.GetFileName(dir), out _) &&
                    File.ReadLines(Path.Combine(dir, "status")).FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))?.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) == uid) count++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }   // a process that ended meanwhile
        return count;
    }
}
