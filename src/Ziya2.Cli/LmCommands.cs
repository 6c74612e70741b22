using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Ziya2.DataFactory.Reading;
using Ziya2.Kernel.Hosting;
using Ziya2.NGram;

namespace Ziya2.Cli;

/// <summary><c>ziya2 lm train|score</c>: the n-gram models behind automatic scoring (paper §2.1 AS).</summary>
static class LmCommands
{
    public static Command Create(Option<LogLevel> logLevel)
    {
        var tokenize = new Option<LmTokenization>("--tokenize") { Description = "whitespace (KenLM's convention), characters (one token per CJK ideograph) or sentencepiece (pieces; needs --sp-model)", DefaultValueFactory = _ => LmTokenization.Whitespace };
        var spModel = new Option<string?>("--sp-model") { Description = "SentencePiece tokenizer.model for --tokenize sentencepiece" };

        var order = new Option<int>("--order") { Description = "N-gram order (1-5; CCNet uses 5)", DefaultValueFactory = _ => 5 };
        var corpus = new Option<string[]>("--corpus") { Description = "Text files (.txt: one sentence per line) or data shards/directories (JSONL, .gz, .zst, Parquet): each line of each document is a sentence", Required = true, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--out") { Description = "ARPA file to write (atomically)", Required = true };
        var train = new Command("train", "Estimate an interpolated modified Kneser-Ney model and write it as ARPA (KenLM's lmplz writes the same format for larger corpora)") { order, corpus, output, tokenize, spModel, logLevel };
        train.SetAction(r => InvalidInput.Guard(() => Train(r.GetValue(order), r.GetValue(corpus)!, r.GetValue(output)!, LmTokenizer.Create(r.GetValue(tokenize), r.GetValue(spModel)))));

        var model = new Option<string>("--model") { Description = "ARPA file (plain or .gz) or binary model (ziya2 lm binary)", Required = true };
        var text = new Option<string?>("--text") { Description = "Text to score (each line a document line)" };
        var file = new Option<string?>("--file") { Description = "UTF-8 file; every line is scored on its own" };
        var score = new Command("score", "Print {\"log10\", \"tokens\", \"perplexity\"} per input line, with KenLM's query semantics and CCNet's perplexity") { model, text, file, tokenize, spModel, logLevel };
        score.SetAction(r => InvalidInput.Guard(() =>
        {
            var lm = ArpaModel.Load(r.GetValue(model)!);
            var tokenizer = LmTokenizer.Create(r.GetValue(tokenize), r.GetValue(spModel));
            var lines = r.GetValue(text) is { } t ? t.Split('\n') : r.GetValue(file) is { } f ? File.ReadLines(f) : throw new ArgumentException("give --text or --file");
            foreach (var line in lines)
            {
                var (log10, tokens) = lm.ScoreDocument(line, tokenizer);
                Console.Out.WriteLine(JsonSerializer.Serialize(new { log10 = Math.Round(log10, 6), tokens, perplexity = tokens == 0 ? (double?)null : Math.Round(ArpaModel.Perplexity(log10, tokens), 4) }));
            }
            return ExitCodes.Ok;
        }));
        var source = new Argument<string>("arpa") { Description = "ARPA file (plain or .gz)" };
        var target = new Argument<string>("binary") { Description = "Binary model to write (atomically)" };
        var binary = new Command("binary", "Write a model in binary form, read in a fraction of the ARPA text's time (KenLM's build_binary for this program); every command that takes a model reads either") { source, target, logLevel };
        binary.SetAction(r => InvalidInput.Guard(() =>
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            var lm = ArpaModel.Load(r.GetValue(source)!);
            var read = started.Elapsed;
            lm.SaveBinary(r.GetValue(target)!);
            started.Restart();
            ArpaModel.Load(r.GetValue(target)!);
            Console.Out.WriteLine($"{r.GetValue(target)}: order {lm.Order}, {string.Join(" / ", lm.Counts.Select(c => c.ToString("N0", CultureInfo.InvariantCulture)))} n-grams; " +
                                  $"read in {read.TotalSeconds:F2} s as ARPA, {started.Elapsed.TotalSeconds:F2} s binary");
            return ExitCodes.Ok;
        }));
        return new Command("lm", "N-gram language models for perplexity scoring") { train, score, binary };
    }

    static int Train(int order, string[] corpus, string output, LmTokenizer tokenization)
    {
        var trainer = new KneserNeyTrainer(order);
        long documents = 0;
        foreach (var input in corpus)
        {
            if (File.Exists(input) && input.EndsWith(".txt", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var line in File.ReadLines(input)) trainer.AddSentence(tokenization.Tokenize(line));
                documents++;
                continue;
            }
            var reader = new ShardReader(new FieldMapping());
            foreach (var shard in InputShard.Expand([input]))
                foreach (var record in reader.Read(shard))
                {
                    if (record is MalformedRecord bad) { Console.Error.WriteLine($"skipped {bad.Origin}: {bad.Reason}"); continue; }
                    trainer.AddText(((ParsedRecord)record).Document.Text, tokenization);
                    documents++;
                }
        }
        var full = Path.GetFullPath(output);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = full + ".tmp";
        TrainingSummary summary;
        using (var writer = new StreamWriter(tmp, false, new System.Text.UTF8Encoding(false)))
            summary = trainer.Write(writer);
        File.Move(tmp, full, overwrite: true);
        Console.Out.WriteLine($"{summary.Sentences:N0} sentences, {summary.Tokens:N0} tokens from {documents:N0} document(s); vocabulary {summary.Vocabulary:N0}; " +
                              $"n-grams {string.Join(" / ", summary.NGrams.Select(n => n.ToString("N0", CultureInfo.InvariantCulture)))} → {output}");
        foreach (var d in summary.Discounts)
            Console.Out.WriteLine($"  order {d.Order}: discounts {d.D1:F4} {d.D2:F4} {d.D3Plus:F4}{(d.Fallback ? " (fallback: too few counts to estimate)" : "")}");
        return ExitCodes.Ok;
    }
}
