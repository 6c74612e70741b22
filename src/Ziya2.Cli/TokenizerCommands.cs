using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Ziya2.Kernel.Configuration;
using Ziya2.Kernel.Hosting;
using Ziya2.Kernel.Plugins;
using Ziya2.Models;
using Ziya2.Plugins;
using Ziya2.Tokenization;
using Ziya2.Models.Checkpoints;

namespace Ziya2.Cli;

/// <summary><c>ziya2 tokenizer encode|decode|extend|stats</c>, over the <c>sentencepiece</c> tokenizer component.</summary>
static class TokenizerCommands
{
    public static Command Create(Option<string[]> plugins, Option<LogLevel> logLevel)
    {
        var tokenizer = new Option<string>("--tokenizer") { Description = "tokenizer.model file (or a directory holding one)", Required = true };
        var text = new Option<string?>("--text") { Description = "Text to encode (one line per input line)" };
        var file = new Option<string?>("--file") { Description = "UTF-8 file, one input per line" };
        var bos = new Option<bool>("--bos") { Description = "Prepend the bos id" };
        var eos = new Option<bool>("--eos") { Description = "Append the eos id" };

        var format = new Option<string>("--format") { Description = "json: a JSON array per line; ids: space-separated ids per line (spm_encode --output_format=id)", DefaultValueFactory = _ => "json" };
        format.AcceptOnlyFromAmong("json", "ids");
        var encode = new Command("encode", "Print the ids of each input line") { tokenizer, text, file, format, bos, eos, plugins, logLevel };
        encode.SetAction(r => Run(r, plugins, logLevel, r.GetValue(tokenizer)!, t =>
        {
            // A corpus streams through reused buffers — lines as spans, ids into one list, formatted into one buffer —
            // so encoding a file allocates nothing per line (spm_encode's memory, not a garbage collector's).
            using var output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16);
            bool json = r.GetValue(format) == "json";
            var (addBos, addEos) = (r.GetValue(bos) ? t.Vocabulary.BosId : null, r.GetValue(eos) ? t.Vocabulary.EosId : null);
            var encoded = new List<int>();
            var buffer = new char[4096];
            void Line(ReadOnlySpan<char> line)
            {
                encoded.Clear();
                if (addBos is { } b) encoded.Add(b);
                t.EncodeInto(line, encoded);
                if (addEos is { } e) encoded.Add(e);
                int at = 0;
                if (json) buffer[at++] = '[';
                for (int i = 0; i < encoded.Count; i++)
                {
                    if (buffer.Length - at < 16) { output.Write(buffer, 0, at); at = 0; }
                    if (i > 0) buffer[at++] = json ? ',' : ' ';
                    encoded[i].TryFormat(buffer.AsSpan(at), out int written, default, CultureInfo.InvariantCulture);
                    at += written;
                }
                if (json) buffer[at++] = ']';
                buffer[at++] = '\n';
                output.Write(buffer, 0, at);
            }
            if (r.GetValue(file) is { } path)
            {
                if (r.GetValue(text) is not null) throw new ArgumentException("give --text or --file, not both");
                using var input = File.OpenRead(path);
                LineReader.ForEach(input, Line);
            }
            else foreach (var line in Inputs(r.GetValue(text), null, "--text")) Line(line);
            return ExitCodes.Ok;
        }));

        var ids = new Option<string?>("--ids") { Description = "JSON array or comma-separated ids" };
        var decode = new Command("decode", "Print the text of each line's ids (JSON arrays or space/comma-separated, as encode prints them; --ids, --file or standard input)") { tokenizer, ids, file, plugins, logLevel };
        decode.SetAction(r => Run(r, plugins, logLevel, r.GetValue(tokenizer)!, t =>
        {
            foreach (var line in Inputs(r.GetValue(ids), r.GetValue(file), "--ids").Where(l => l.Trim().Length > 0))
                Console.Out.WriteLine(t.Decode(ParseIds(line)));
            return ExitCodes.Ok;
        }));

        var baseModel = new Option<string>("--base") { Description = "Base tokenizer.model", Required = true };
        var corpus = new Option<string[]>("--corpus") { Description = "UTF-8 text files to count characters in", Required = true, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = true };
        var count = new Option<int>("--count") { Description = "Characters to add", DefaultValueFactory = _ => 7400 };
        var ranges = new Option<string>("--ranges") { Description = "Hex code point ranges to draw from", DefaultValueFactory = _ => "4E00-9FFF,3400-4DBF,F900-FAFF" };
        var output = new Option<string>("--out") { Description = "Output directory", Required = true };
        var model = new Option<string?>("--model") { Description = "Also resize this HF checkpoint's embeddings and write it into --out" };
        var padTo = new Option<int>("--pad-to-multiple") { Description = "Round the model's vocabulary rows up to a multiple of this (Ziya2: 128 → 39,424)", DefaultValueFactory = _ => 128 };
        var weighting = new Option<string>("--weighting") { Description = "New-row init: uniform (mean of the base pieces' rows), bytes (weighted by piece byte length), first-out (uniform input rows, LM-head row of the first piece)", DefaultValueFactory = _ => "uniform" };
        var extend = new Command("extend", "Add the most frequent missing CJK characters as new pieces (Ziya2 §3.2)") { baseModel, corpus, count, ranges, output, model, padTo, weighting, plugins, logLevel };
        extend.SetAction(r => Run(r, plugins, logLevel, r.GetValue(baseModel)!, t =>
        {
            if (t is not IVocabularyExtender extender) throw new ArgumentException("this tokenizer cannot be extended");
            var files = r.GetValue(corpus)!;
            var chosen = VocabularyExtension.SelectCharacters(t.Vocabulary, VocabularyExtension.ReadLines(files), r.GetValue(count), VocabularyExtension.ParseRanges(r.GetValue(ranges)!));
            var outDir = r.GetValue(output)!;
            if (r.GetValue(model) is { } checkpoint)
                ResizeModel(r, plugins, logLevel, checkpoint, extender, chosen.Select(c => c.Character).ToList(), r.GetValue(padTo), r.GetValue(weighting)!, outDir);
            var extended = extender.SaveExtended(chosen.Select(c => c.Character).ToList(), outDir);
            Console.Out.WriteLine($"added {chosen.Count} characters ({(chosen.Count > 0 ? $"most frequent '{chosen[0].Character}' ×{chosen[0].Count}, least '{chosen[^1].Character}' ×{chosen[^1].Count}" : "none missing")}); " +
                                  $"vocabulary {t.VocabSize} → {extended.VocabSize}; wrote {Path.Combine(outDir, "tokenizer.model")}");
            Console.Out.WriteLine(ScriptSplit(r, plugins, logLevel, chosen.Select(c => c.Character).ToList()));
            TokenizerStats.Print(Console.Out, VocabularyExtension.ReadLines(files).ToList(), ("base", t), ("extended", extended));
            return ExitCodes.Ok;
        }));

        var compare = new Option<string?>("--compare") { Description = "A second tokenizer.model (e.g. the extended one) to compare with" };
        var stats = new Command("stats", "Tokens per character and bytes per token on Chinese and English lines") { tokenizer, compare, corpus, plugins, logLevel };
        stats.SetAction(r => Run(r, plugins, logLevel, r.GetValue(tokenizer)!, t =>
        {
            var lines = VocabularyExtension.ReadLines(r.GetValue(corpus)!).ToList();
            if (r.GetValue(compare) is { } other)
                return Run(r, plugins, logLevel, other, o => { TokenizerStats.Print(Console.Out, lines, ("first", t), ("second", o)); return ExitCodes.Ok; });
            TokenizerStats.Print(Console.Out, lines, ("tokenizer", t));
            return ExitCodes.Ok;
        }));

        var repeat = new Option<int>("--repeat") { Description = "Encode the corpus this many times per pass", DefaultValueFactory = _ => 20 };
        var bench = new Command("bench", "Encode throughput in MB/s (one thread, line by line, median of 3 passes)") { tokenizer, corpus, repeat, plugins, logLevel };
        bench.SetAction(r => Run(r, plugins, logLevel, r.GetValue(tokenizer)!, t =>
        {
            var lines = VocabularyExtension.ReadLines(r.GetValue(corpus)!).ToList();
            long bytes = lines.Sum(l => (long)Encoding.UTF8.GetByteCount(l)) * r.GetValue(repeat);
            foreach (var l in lines) t.Encode(l);   // warm-up
            var seconds = new List<double>();
            for (int pass = 0; pass < 3; pass++)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                for (int k = 0; k < r.GetValue(repeat); k++) foreach (var l in lines) t.Encode(l);
                seconds.Add(clock.Elapsed.TotalSeconds);
            }
            seconds.Sort();
            Console.Out.WriteLine(JsonSerializer.Serialize(new { bytes, seconds = seconds[1], mb_per_s = bytes / 1e6 / seconds[1] }));
            return ExitCodes.Ok;
        }));

        return new Command("tokenizer", "Encode, decode, extend, measure and benchmark SentencePiece tokenizers") { encode, decode, extend, stats, bench };
    }

    /// <summary>Resolves the <c>sentencepiece</c> component for <paramref name="path"/> (file or directory).</summary>
    internal static int Run(ParseResult r, Option<string[]> plugins, Option<LogLevel> logLevel, string path, Func<ITokenizer, int> body)
    {
        using var loggers = Logging.Create(LogFormat.Text, r.GetValue(logLevel));
        return InvalidInput.Guard(() =>
        {
            using var t = Open(loggers, path, r.GetValue(plugins) ?? []);
            return body(t.Tokenizer);
        });
    }

    internal sealed record OpenTokenizer(ITokenizer Tokenizer, IDisposable Lifetime) : IDisposable
    {
        public void Dispose() => Lifetime.Dispose();
    }

    internal static OpenTokenizer Open(ILoggerFactory loggers, string path, IEnumerable<string> pluginDirs)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, "tokenizer.model") : path;
        var (component, lifetime) = new Ziya2Host(loggers, Console.Out, Console.Error).CreateComponent(ComponentKind.Tokenizer, "sentencepiece", "tokenizer",
            [Overrides.Text("tokenizer.model", Path.GetFullPath(file))], pluginDirs);
        return new OpenTokenizer((ITokenizer)component, lifetime);
    }

    /// <summary>
    /// "S simplified or shared, T traditional" by the data factory's <c>t2s</c> filter (OpenCC's tables): counts are taken
    /// on the corpus as given, so a corpus in both scripts adds both kinds, as Ziya2 §3.2 does.
    /// </summary>
    static string ScriptSplit(ParseResult r, Option<string[]> plugins, Option<LogLevel> logLevel, IReadOnlyList<string> added)
    {
        using var loggers = Logging.Create(LogFormat.Text, r.GetValue(logLevel));
        try
        {
            var (component, lifetime) = new Ziya2Host(loggers, Console.Out, Console.Error).CreateComponent(ComponentKind.DataFilter, "t2s", "filters.t2s", [], r.GetValue(plugins) ?? []);
            using (lifetime)
            {
                var traditional = VocabularyExtension.Traditional(added, (Ziya2.Data.IDataFilter)component);
                return $"scripts: {added.Count - traditional.Count} simplified or shared, {traditional.Count} traditional" +
                       (traditional.Count > 0 ? $" (e.g. {string.Join(" ", traditional.Take(10))})" : "");
            }
        }
        catch (ComponentNotFoundException e) { return $"scripts: not split ({e.Message})"; }
    }

    static void ResizeModel(ParseResult r, Option<string[]> plugins, Option<LogLevel> logLevel, string checkpoint, IVocabularyExtender baseTokenizer,
        IReadOnlyList<string> added, int multiple, string weighting, string outDir)
    {
        using var loggers = Logging.Create(LogFormat.Text, r.GetValue(logLevel));
        var (component, lifetime) = new Ziya2Host(loggers, Console.Out, Console.Error).CreateComponent(TensorComponentKinds.Model, "llama", "model",
            [Overrides.Text("model.checkpoint", Path.GetFullPath(checkpoint))], r.GetValue(plugins) ?? []);
        using (lifetime)
        {
            var model = (ILanguageModel)component;
            int first = baseTokenizer.VocabSize;
            if (model.VocabSize < first) throw new ArgumentException($"the model has {model.VocabSize} rows but the base tokenizer {first} pieces");
            var rows = VocabularyExtension.InitialRows(baseTokenizer, added, weighting);
            int size = Math.Max(model.VocabSize, VocabularyExtension.PaddedRows(first + added.Count, multiple));
            model.ExtendVocabulary(size, rows);
            HuggingFaceCheckpoint.Save(model, outDir);
            Console.Out.WriteLine($"model rows {first} → {size} (multiple of {multiple}); {rows.Count} rows initialised as the {weighting} mean of their base pieces; wrote {outDir}");
        }
    }

    /// <summary>The lines to work on: <paramref name="inline"/> (the command's <paramref name="inlineOption"/>), a file, or standard input when it is piped.</summary>
    static IEnumerable<string> Inputs(string? inline, string? file, string inlineOption)
    {
        if (inline is not null && file is not null) throw new ArgumentException($"give {inlineOption} or --file, not both");
        if (file is not null) return File.ReadLines(file, Encoding.UTF8);
        if (inline is not null) return inline.Split('\n');
        if (Console.IsInputRedirected) return StandardInput();
        throw new ArgumentException($"nothing to process: give {inlineOption} or --file, or pipe the lines in");
    }

    static IEnumerable<string> StandardInput()
    {
        for (string? line; (line = Console.In.ReadLine()) is not null;) yield return line;
    }

    static int[] ParseIds(string line)
    {
        line = line.Trim();
        if (line.StartsWith('['))
            try { return JsonSerializer.Deserialize<int[]>(line) ?? []; }
            catch (JsonException e) { throw new ArgumentException($"'{line}' is not a JSON array of ids ({e.Message})", e); }
        return line.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries)
            .Select(x => int.TryParse(x, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) ? id : throw new ArgumentException($"'{x}' is not an id (ids are integers, separated by commas or spaces)")).ToArray();
    }
}

/// <summary>Encoding efficiency per script, as the paper reports it (§3.2: ~34% better Chinese encoding).</summary>
static class TokenizerStats
{
    public static void Print(TextWriter o, IReadOnlyList<string> lines, params (string Name, ITokenizer Tokenizer)[] tokenizers)
    {
        var groups = new[] { ("Chinese", lines.Where(IsChinese).ToList()), ("English", lines.Where(l => !IsChinese(l) && l.Count(char.IsAsciiLetter) * 2 > l.Length).ToList()) };
        o.WriteLine($"{"text",-8} {"lines",6} {"chars",9} {"bytes",9}  " + string.Join("  ", tokenizers.Select(t => $"{t.Name + " tokens",16} {"tok/char",8} {"bytes/tok",9}")));
        foreach (var (name, group) in groups)
        {
            long chars = group.Sum(l => (long)l.EnumerateRunes().Count()), bytes = group.Sum(l => (long)Encoding.UTF8.GetByteCount(l));
            var counts = tokenizers.Select(t => group.Sum(l => (long)t.Tokenizer.Encode(l).Count)).ToList();
            o.WriteLine($"{name,-8} {group.Count,6} {chars,9} {bytes,9}  " + string.Join("  ", counts.Select(c =>
                $"{c,16} {(chars == 0 ? 0 : (double)c / chars),8:F3} {(c == 0 ? 0 : (double)bytes / c),9:F3}")));
            if (counts.Count == 2 && counts[0] > 0)
                o.WriteLine($"{"",-8} {tokenizers[1].Name} needs {1 - (double)counts[1] / counts[0]:P1} fewer tokens than {tokenizers[0].Name} on {name} ({(double)counts[0] / Math.Max(1, counts[1]):F2}× bytes per token)");
        }
    }

    static bool IsChinese(string line)
    {
        int han = 0, letters = 0;
        foreach (var r in line.EnumerateRunes())
        {
            if (VocabularyExtension.CjkRanges.Any(x => r.Value >= x.First && r.Value <= x.Last)) han++;
            else if (Rune.IsLetter(r)) letters++;
        }
        return han > 0 && han >= letters;
    }
}
