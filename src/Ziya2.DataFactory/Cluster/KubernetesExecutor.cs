using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ziya2.DataFactory.Pipeline;
using Ziya2.Distributed;

namespace Ziya2.DataFactory.Cluster;

/// <summary><c>[executor.k8s]</c>: how the phases of a data run become Kubernetes Jobs.</summary>
public sealed class KubernetesSettings : ClusterSettings
{
    /// <summary>Pods of one phase at once (0: all).</summary>
    public int Parallelism { get; set; }
    /// <summary>A container image with ziya2 (the published CLI and its plugins).</summary>
    public string Image { get; set; } = "";
    /// <summary>The command that starts ziya2 in the image.</summary>
    public string Command { get; set; } = "ziya2";
    public string Namespace { get; set; } = "default";
    /// <summary>The PersistentVolumeClaim every pod mounts (ReadWriteMany): inputs, outputs and configs live on it.</summary>
    public string VolumeClaim { get; set; } = "";
    /// <summary>Where the claim is mounted; the run's paths must lie under it, the same inside pods as here.</summary>
    public string MountPath { get; set; } = "/data";
    public string Cpu { get; set; } = "1";
    public string Memory { get; set; } = "4Gi";
    /// <summary>Retries of a failed index before the phase fails.</summary>
    public int BackoffLimitPerIndex { get; set; } = 3;

    public override IEnumerable<string> Validate()
    {
        foreach (var problem in base.Validate()) yield return problem;
        if (Parallelism < 0) yield return "parallelism must be >= 0";
        if (BackoffLimitPerIndex < 0) yield return "backoff_limit_per_index must be >= 0";
    }
}

/// <summary>
/// Writes one <c>batch/v1</c> Job per phase of every pipeline under <c>&lt;output&gt;/_k8s</c> — observe and apply as
/// Indexed Jobs (<c>completionMode: Indexed</c>, each pod's <c>JOB_COMPLETION_INDEX</c> is its task), a partitioned
/// step's decide rounds as Indexed Jobs of their partitions, decide and finish as single pods — and <c>run.sh</c>, which applies them in order and waits for each to complete or fail (run
/// again, it skips completed phases and replaces a failed one's Job). Submitting
/// is the operator's <c>kubectl</c>; the pods share the output directory through one ReadWriteMany volume.
/// </summary>
public static class KubernetesExecutor
{
    /// <summary>A phase's Job: its name and manifest file.</summary>
    public sealed record Manifest(string Pipeline, PipelinePhase Phase, string Name, string Path);

    /// <summary>The manifests and <c>run.sh</c> under <c>&lt;output&gt;/_k8s</c>.</summary>
    public static List<Manifest> Write(IReadOnlyList<ClusterPipeline> plan, KubernetesSettings k8s, IReadOnlyList<string> workerArguments, string output)
    {
        if (k8s.Image.Length == 0) throw new ArgumentException("executor.k8s.image must name an image with ziya2 in it");
        if (k8s.VolumeClaim.Length == 0) throw new ArgumentException("executor.k8s.volume_claim must name the ReadWriteMany claim the pods share");
        var mount = k8s.MountPath.TrimEnd('/') + "/";
        var outside = workerArguments.Where(a => Path.IsPathRooted(a) && !a.StartsWith(mount, StringComparison.Ordinal)).ToList();
        if (outside.Count > 0)
            throw new ArgumentException($"pods see only {k8s.MountPath}; these paths are outside it: {string.Join(", ", outside)}");

        var directory = Path.Combine(Path.GetFullPath(output), "_k8s");
        Directory.CreateDirectory(directory);
        var manifests = new List<Manifest>();
        var ns = Shell.Quote(k8s.Namespace);
        var run = new StringBuilder("#!/bin/bash\n")
            .Append("# Applies the data run's Jobs in order; each phase starts when the one before has completed. Run it again after a\n")
            .Append("# failure: completed phases are skipped, a failed phase's Job is replaced (its finished shards are not redone).\n")
            .Append("set -euo pipefail\ncd \"$(dirname \"$0\")\"\n")
            .Append($"state() {{ kubectl get job \"$1\" --namespace {ns} -o jsonpath='{{.status.conditions[?(@.status==\"True\")].type}}' 2>/dev/null || true; }}\n")
            .Append("run_job() {\n")
            .Append("  case \" $(state \"$2\") \" in *\" Complete \"*) echo \"$2: complete\"; return 0;; *\" Failed \"*) kubectl delete job \"$2\" --namespace " + ns + ";; esac\n")
            .Append("  kubectl apply -f \"$1\"\n")
            .Append("  while true; do\n")
            .Append("    case \" $(state \"$2\") \" in *\" Complete \"*) echo \"$2: complete\"; return 0;; *\" Failed \"*) echo \"$2 failed; see: kubectl logs --namespace " + ns + " job/$2\" >&2; return 1;; esac\n")
            .Append("    sleep 10\n  done\n}\n");
        int n = 0;
        foreach (var (pipeline, phases) in plan)
        {
            foreach (var phase in phases)
            {
                // Job names: DNS labels (lower case, digits, '-'), unique per output directory.
                var name = Label($"ziya2-{n:D2}-{pipeline}-{phase.ToString().Replace(':', '-').Replace('@', '-')}-{Hash(directory)}");
                int tasks = phase.Tasks(k8s.Tasks);   // the shards' tasks for observe and apply; a partitioned round's own count
                var command = new JsonArray([.. k8s.Command.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(c => (JsonNode)c),
                    .. workerArguments.Select(a => (JsonNode)a), "--tasks", tasks.ToString(), "--phase", $"{pipeline}/{phase}"]);
                var spec = new JsonObject
                {
                    ["completions"] = tasks,
                    ["parallelism"] = k8s.Parallelism > 0 ? Math.Min(k8s.Parallelism, tasks) : tasks,
                    ["completionMode"] = "Indexed",
                    ["backoffLimitPerIndex"] = k8s.BackoffLimitPerIndex,
                    ["template"] = new JsonObject
                    {
                        ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app.kubernetes.io/name"] = "ziya2-data", ["ziya2/phase"] = Label($"{pipeline}-{phase.ToString().Replace(':', '-').Replace('@', '-')}") } },
                        ["spec"] = new JsonObject
                        {
                            ["restartPolicy"] = "Never",
                            ["containers"] = new JsonArray(new JsonObject
                            {
                                ["name"] = "worker",
                                ["image"] = k8s.Image,
                                ["command"] = command,
                                ["workingDir"] = Environment.CurrentDirectory.StartsWith(mount, StringComparison.Ordinal) ? Environment.CurrentDirectory : k8s.MountPath,
                                ["resources"] = new JsonObject { ["requests"] = new JsonObject { ["cpu"] = k8s.Cpu, ["memory"] = k8s.Memory }, ["limits"] = new JsonObject { ["memory"] = k8s.Memory } },
                                ["volumeMounts"] = new JsonArray(new JsonObject { ["name"] = "data", ["mountPath"] = k8s.MountPath }),
                            }),
                            ["volumes"] = new JsonArray(new JsonObject { ["name"] = "data", ["persistentVolumeClaim"] = new JsonObject { ["claimName"] = k8s.VolumeClaim } }),
                        },
                    },
                };
                var job = new JsonObject
                {
                    ["apiVersion"] = "batch/v1",
                    ["kind"] = "Job",
                    ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = k8s.Namespace },
                    ["spec"] = spec,
                };
                var path = Path.Combine(directory, $"{n:D2}-{pipeline}-{phase.ToString().Replace(':', '-').Replace('@', '-')}.json");
                File.WriteAllText(path, job.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                manifests.Add(new Manifest(pipeline, phase, name, path));
                run.Append($"run_job {Shell.Quote(Path.GetFileName(path))} {name}\n");
                n++;
            }
        }
        var script = Path.Combine(directory, "run.sh");
        File.WriteAllText(script, run.ToString());
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, File.GetUnixFileMode(script) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute);
        return manifests;
    }

    /// <summary>
    /// Applies the manifests <see cref="Write"/> left in <paramref name="output"/> with <c>kubectl</c>, in order, by
    /// running their <c>run.sh</c>, and waits for every Job: true when all completed, false when one failed (run.sh
    /// names it and how to read its logs). run.sh's lines go to <paramref name="log"/>. Needs <c>kubectl</c> on the PATH,
    /// configured for the cluster; without it nothing is applied.
    /// </summary>
    public static bool ApplyAndWait(string output, Action<string> log, CancellationToken cancellation)
    {
        var script = Path.Combine(Path.GetFullPath(output), "_k8s", "run.sh");
        if (!File.Exists(script)) throw new FileNotFoundException($"no manifests to apply: {script} does not exist");
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        if (!path.Split(Path.PathSeparator).Any(d => d.Length > 0 && File.Exists(Path.Combine(d, "kubectl"))))
            throw new IOException($"kubectl is not on the PATH: apply the Jobs where it is, with bash {script}");
        var psi = new System.Diagnostics.ProcessStartInfo("bash", [script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = System.Diagnostics.Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) log(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) log(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // Stopping here stops waiting, not the Jobs: they run on in the cluster, and run.sh picks them up when run again.
        using (cancellation.Register(() => { try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } }))
            process.WaitForExit();
        cancellation.ThrowIfCancellationRequested();
        return process.ExitCode == 0;
    }

    static string Label(string text)
    {
        var label = new string([.. text.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]).Trim('-');
        return label.Length <= 63 ? label : label[..55].TrimEnd('-') + "-" + Hash(label);
    }

    static string Hash(string text) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..7];
}
