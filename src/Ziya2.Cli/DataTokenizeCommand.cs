using System.CommandLine;
using Microsoft.Extensions.Logging;
using Ziya2.DataFactory.Reading;
using Ziya2.Kernel.Hosting;
using Ziya2.Training.Data;

namespace Ziya2.Cli;

/// <summary><c>ziya2 data tokenize</c>: a source's data-factory output → a memory-mapped token directory for training.</summary>
static class DataTokenizeCommand
{
    public static Command Create(Option<string[]> plugins, Option<LogLevel> logLevel)
    {
        var tokenizer = new Option<string>("--tokenizer") { Description = "tokenizer.model file (or a directory holding one)", Required = true };
        var input = new Option<string[]>("--input") { Description = "The source's shards: files or directories (usually a pipeline's kept/)", Required = true, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--output") { Description = "Token directory (tokens.bin, offsets.bin, prompts.bin, manifest.json)", Required = true };
        var textField = new Option<string>("--text-field") { Description = "JSON field holding the text", DefaultValueFactory = _ => "text" };
        var threads = new Option<int>("--threads") { Description = "Threads that encode (0: every core)", DefaultValueFactory = _ => 0 };
        var command = new Command("tokenize", "Tokenise a source once into a memory-mapped token directory (resumable per shard; prompts of supervised samples recorded for loss masking)")
            { tokenizer, input, output, textField, threads, plugins, logLevel };
        command.SetAction((r, ct) => Task.FromResult(TokenizerCommands.Run(r, plugins, logLevel, r.GetValue(tokenizer)!, t =>
        {
            var outDir = r.GetValue(output)!;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            if (r.GetValue(threads) < 0) throw new ArgumentException("--threads must be >= 0");
            using var file = TokenFileBuilder.Build(r.GetValue(input)!.Select(Path.GetFullPath), t, outDir, new FieldMapping { Text = r.GetValue(textField)! }, ct, threads: r.GetValue(threads));
            var m = file.Manifest;
            Console.Out.WriteLine($"{outDir}: {m.Documents:N0} documents ({m.SupervisedDocuments:N0} with a prompt), {m.Tokens:N0} tokens, " +
                                  $"vocabulary {m.VocabSize:N0}, tokenizer {m.TokenizerHash[..12]}; {clock.Elapsed.TotalSeconds:F1} s");
            return ExitCodes.Ok;
        })));
        return command;
    }
}
