using System.Runtime.InteropServices;
using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Ziya2.Kernel.Hosting;

namespace Ziya2.Cli;

static class Program
{
    static async Task<int> Main(string[] args)
    {
        var recipe = new Argument<string>("recipe") { Description = "Path to the .csx recipe" };
        var config = new Option<string[]>("--config", "-c") { Description = "TOML config file; repeat to layer (later wins)", Arity = ArgumentArity.ZeroOrMore };
        var set = new Option<string[]>("--set") { Description = "Override a key: --set a.b=value (type-checked)", Arity = ArgumentArity.ZeroOrMore };
        var plugins = new Option<string[]>("--plugins") { Description = "Extra plugin directory (holds <Name>/<Name>.dll); repeatable", Arity = ArgumentArity.ZeroOrMore };
        var runDir = new Option<string?>("--run-dir") { Description = "Run directory (default runs/<recipe>/<timestamp>)" };
        var force = new Option<bool>("--force") { Description = "Reuse a run directory created by a different invocation, or run the recipe again where it completed" };
        var resume = new Option<bool>("--resume") { Description = "Continue the latest run of this recipe (runs/<recipe>/*), or the one --run-dir names" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Run the recipe in plan mode (DryRun): it prints stages, budgets, steps, memory and time, and trains nothing" };
        var logFormat = new Option<LogFormat>("--log-format") { Description = "Console log format: text or json", DefaultValueFactory = _ => LogFormat.Text };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Minimum log level", DefaultValueFactory = _ => LogLevel.Information };
        var json = new Option<bool>("--json") { Description = "Machine-readable output" };

        RunRequest Request(ParseResult r) => new(
            r.GetValue(recipe)!, r.GetValue(config) ?? [], r.GetValue(set) ?? [], r.GetValue(plugins) ?? [],
            r.GetValue(runDir), r.GetValue(force), r.GetValue(logFormat), r.GetValue(logLevel),
            Engines: [typeof(Ziya2.DataFactory.Pipeline.DataPipeline).Assembly, typeof(Ziya2.Distributed.ProcessGroups).Assembly, typeof(Ziya2.NGram.ArpaModel).Assembly, typeof(Ziya2.Training.Trainer).Assembly,
                      typeof(Ziya2.Reporting.RunReport).Assembly, typeof(Ziya2.Evaluation.LanguageModelScorer).Assembly, typeof(Ziya2.Scaling.ScalingLaw).Assembly],   // recipes may use the engines
            Resume: r.GetValue(resume), DryRun: r.GetValue(dryRun));

        var run = new Command("run", "Validate and run a recipe") { recipe, config, set, plugins, runDir, force, resume, dryRun, logFormat, logLevel };
        run.Validators.Add(r => { if (r.GetValue(resume) && r.GetValue(dryRun)) r.AddError("--resume and --dry-run cannot be combined"); });
        run.SetAction(async (r, ct) =>
        {
            using var loggers = Logging.Create(r.GetValue(logFormat), r.GetValue(logLevel));
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            return await new Ziya2Host(loggers, Console.Out, Console.Error).RunAsync(Request(r), cts.Token);
        });

        var validate = new Command("validate", "Compile a recipe, bind its config and resolve its components; run nothing") { recipe, config, set, plugins, logFormat, logLevel };
        validate.SetAction(r =>
        {
            using var loggers = Logging.Create(r.GetValue(logFormat), r.GetValue(logLevel));
            return new Ziya2Host(loggers, Console.Out, Console.Error).Validate(Request(r));
        });

        var list = new Command("list", "List loaded plugins and their components") { plugins, json, logLevel };
        list.SetAction(r =>
        {
            using var loggers = Logging.Create(LogFormat.Text, r.GetValue(logLevel));
            var catalog = new Ziya2Host(loggers, Console.Out, Console.Error).LoadPlugins(r.GetValue(plugins) ?? []);
            if (r.GetValue(json)) Console.Out.WriteLine(JsonSerializer.Serialize(PluginListing.ToJson(catalog), new JsonSerializerOptions { WriteIndented = true }));
            else PluginListing.Print(catalog, Console.Out);
            return catalog.Failures.Count > 0 || catalog.Conflicts.Count > 0 ? Ziya2.Kernel.Hosting.ExitCodes.InvalidInput : Ziya2.Kernel.Hosting.ExitCodes.Ok;
        });
        var pluginsCommand = new Command("plugins", "Inspect plugins") { list };

        var root = new RootCommand("ziya2 — data-centric continual pre-training of LLaMA-family models (Ziya2 regime)")
        {
            run, validate, pluginsCommand, ModelCommands.Create(plugins, logLevel), TokenizerCommands.Create(plugins, logLevel),
            DataCommands.Create(plugins, logLevel, logFormat), LmCommands.Create(logLevel), TrainBenchmark.Create(plugins, logLevel), ScalingCommands.Create(), EvalCommand.Create(plugins, logLevel),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors) Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine("Run 'ziya2 --help' for usage.");
            return ExitCodes.InvalidInput;
        }
        // Ctrl+C / SIGTERM cancel the command's token and the process waits for a clean stop (a training step and a
        // checkpoint, then exit 0 — what a preempting scheduler such as Slurm expects). A second signal terminates at once.
        using var interrupt = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            if (interrupt.IsCancellationRequested) return;   // second signal: default action (terminate)
            context.Cancel = true;
            Console.Error.WriteLine($"{context.Signal}: stopping after the current step (send it again to terminate now)");
            interrupt.Cancel();
        }
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, interrupt.Token);
    }
}
