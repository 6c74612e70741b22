using System.Diagnostics;

namespace Ziya2.Cli.Tests;

/// <summary>
/// A real one-node Slurm on loopback for the duration of a test (../shared/notes/scale-out.md §4.1): munge, slurmctld
/// and slurmd with a private configuration, state and ports, so it neither needs nor disturbs a system Slurm. Needs
/// Debian's slurm-wlm and munge and root (slurmd starts jobs as their user); <see cref="Missing"/> says what is absent.
/// </summary>
sealed class SingleNodeSlurm : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("ziya2-slurm-").FullName;
    readonly List<string> _pidFiles = [];

    public string ConfigFile => Path.Combine(_root, "slurm.conf");

    /// <summary>Environment for commands that talk to this Slurm (sbatch, squeue).</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { ["SLURM_CONF"] = ConfigFile };

    /// <summary>Why this machine cannot run it, or null.</summary>
    public static string? Missing()
    {
        foreach (var tool in new[] { "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch", "/usr/sbin/munged" })
            if (!File.Exists(tool)) return $"{tool} is not installed (apt-get install slurm-wlm munge; .ci/run does)";
        return System.Environment.UserName == "root" ? null : "slurmd must run as root";
    }

    public SingleNodeSlurm()
    {
        var host = System.Net.Dns.GetHostName();
        foreach (var d in new[] { "state", "spool" }) Directory.CreateDirectory(Path.Combine(_root, d));
        File.WriteAllText(ConfigFile, $"""
            ClusterName=ziya2test
            SlurmctldHost={host}(127.0.0.1)
            SlurmctldPort=6917
            SlurmdPort=6918
            SlurmUser=root
            AuthType=auth/munge
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            SelectType=select/cons_tres
            SelectTypeParameters=CR_Core
            MpiDefault=none
            ReturnToService=2
            StateSaveLocation={_root}/state
            SlurmdSpoolDir={_root}/spool
            SlurmctldPidFile={_root}/slurmctld.pid
            SlurmdPidFile={_root}/slurmd.pid
            SlurmctldLogFile={_root}/slurmctld.log
            SlurmdLogFile={_root}/slurmd.log
            NodeName={host} NodeAddr=127.0.0.1 CPUs={System.Environment.ProcessorCount} RealMemory=1000
            PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
            """);
        // munged dies silently without its run directory; a running one (a system's) is used as it is.
        if (Run("munge", "-n").Code != 0)
        {
            Directory.CreateDirectory("/run/munge");
            Run("chown", "munge:munge", "/run/munge");
            Must(Run("/usr/sbin/munged", "--force"), "munged");
            _pidFiles.Add("/run/munge/munged.pid");
        }
        Must(Run("/usr/sbin/slurmctld", "-f", ConfigFile), "slurmctld");
        _pidFiles.Add(Path.Combine(_root, "slurmctld.pid"));
        Must(Run("/usr/sbin/slurmd", "-f", ConfigFile), "slurmd");
        _pidFiles.Add(Path.Combine(_root, "slurmd.pid"));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!Run("sinfo", "-h", "-o", "%T").Out.Contains("idle"))
        {
            if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"the test Slurm did not come up:\n{Log()}");
            Thread.Sleep(500);
        }
    }

    /// <summary>Waits until no job is left in the queue; false on timeout.</summary>
    public bool WaitForEmptyQueue(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var (code, stdout, _) = Run("squeue", "-h");
            if (code == 0 && stdout.Trim().Length == 0) return true;
            Thread.Sleep(1000);
        }
        return false;
    }

    public string Log() => string.Join("\n", new[] { "slurmctld.log", "slurmd.log" }.Select(f => Path.Combine(_root, f)).Where(File.Exists)
        .Select(f => $"--- {Path.GetFileName(f)}\n{string.Join("\n", File.ReadLines(f).TakeLast(20))}"));

    public (int Code, string Out, string Err) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["SLURM_CONF"] = ConfigFile;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    static void Must((int Code, string Out, string Err) result, string what)
    {
        if (result.Code != 0) throw new InvalidOperationException($"{what} failed to start (exit {result.Code}): {result.Err}");
    }

    public void Dispose()
    {
        Run("scancel", "--user=root");
        foreach (var pidFile in Enumerable.Reverse(_pidFiles))
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
                try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        Thread.Sleep(500);
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
