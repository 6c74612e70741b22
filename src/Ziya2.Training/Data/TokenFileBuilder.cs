using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ziya2.DataFactory.Reading;
using Ziya2.Tokenization;

namespace Ziya2.Training.Data;

/// <summary>
/// Tokenises a source's data-factory output once into a <see cref="TokenFile"/> directory. Resumable per input shard:
/// each finished shard leaves its part files and a marker, a re-run skips them, and the final files are assembled
/// (and the manifest written last) only when every shard is done. Supervised documents (with the <c>prompt_chars</c>
/// attribute format-supervised writes) are encoded as prompt + answer so training can mask the prompt.
/// </summary>
public static class TokenFileBuilder
{
    /// <summary>A stable identity of a tokenizer: SHA-256 over its pieces, scores and types.</summary>
    public static string Hash(ITokenizer tokenizer)
    {
        var v = tokenizer.Vocabulary;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int i = 0; i < v.Pieces.Count; i++)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(v.Pieces[i]));
            sha.AppendData(BitConverter.GetBytes(v.Scores[i]));
            sha.AppendData(BitConverter.GetBytes((int)v.Types[i]));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>Writes already-tokenised documents as a token directory (benchmarks, tests, imports from other tools).</summary>
    public static TokenFile Write(string outputDirectory, IEnumerable<(int[] Tokens, int PromptLength)> documents, int vocabSize, string tokenizerHash)
    {
        Directory.CreateDirectory(outputDirectory);
        long count = 0, total = 0, supervised = 0;
        using (var tokens = new BinaryWriter(File.Create(Path.Combine(outputDirectory, "tokens.bin"))))
        using (var offsets = new BinaryWriter(File.Create(Path.Combine(outputDirectory, "offsets.bin"))))
        using (var prompts = new BinaryWriter(File.Create(Path.Combine(outputDirectory, "prompts.bin"))))
        {
            offsets.Write(0L);
            foreach (var (ids, prompt) in documents)
            {
                if (ids.Length == 0) continue;
                foreach (var id in ids) tokens.Write(id);
                total += ids.Length; count++;
                if (prompt > 0) supervised++;
                offsets.Write(total); prompts.Write(prompt);
            }
        }
        WriteManifest(outputDirectory, new TokenManifest(TokenManifest.CurrentFormat, tokenizerHash, vocabSize, count, total, supervised, []));
        return TokenFile.Open(outputDirectory, tokenizerHash);
    }

    /// <summary>
    /// Builds (or finishes building) <paramref name="outputDirectory"/> from <paramref name="inputs"/>; returns the opened file.
    /// <paramref name="include"/> selects the documents of this source (e.g. one language of a mixed factory output);
    /// keep it the same between a run and its resumption. Documents are encoded on <paramref name="threads"/> threads
    /// (0: every core; the tokenizer's <c>Encode</c> is called from several at once) and written in input order.
    /// </summary>
    public static TokenFile Build(IEnumerable<string> inputs, ITokenizer tokenizer, string outputDirectory, FieldMapping? fields = null,
        CancellationToken cancellation = default, Func<Ziya2.Data.Document, bool>? include = null, int threads = 0)
    {
        if (threads <= 0) threads = Environment.ProcessorCount;
        var hash = Hash(tokenizer);
        var manifestPath = Path.Combine(outputDirectory, "manifest.json");
        if (File.Exists(manifestPath)) return TokenFile.Open(outputDirectory, hash);
        var shards = InputShard.Expand(inputs);
        var parts = Path.Combine(outputDirectory, "_parts");
        Directory.CreateDirectory(parts);
        var reader = new ShardReader(fields ?? new FieldMapping());
        long unreadable = 0;
        string? firstProblem = null;
        foreach (var shard in shards)
        {
            var marker = Path.Combine(parts, shard.Name + ".done");
            if (File.Exists(marker))
            {
                if (File.ReadAllText(marker) != hash) throw new InvalidDataException($"{outputDirectory}: shard {shard.Name} was tokenised with another tokenizer; delete the directory");
                continue;
            }
            using (var tokens = new BinaryWriter(File.Create(Path.Combine(parts, shard.Name + ".tokens"))))
            using (var docs = new BinaryWriter(File.Create(Path.Combine(parts, shard.Name + ".docs"))))
            {
                // Blocks of documents are read in order and encoded on every core while the next block is read; they are
                // written in order, so the files are the bytes one thread writes.
                var block = new List<Ziya2.Data.Document>();
                long blockChars = 0;
                Task<(IReadOnlyList<int> Ids, int Prompt)[]>? encoding = null;
                void Write()
                {
                    if (encoding is null) return;
                    foreach (var (ids, prompt) in encoding.GetAwaiter().GetResult())
                    {
                        if (ids.Count == 0) continue;
                        foreach (var id in ids) tokens.Write(id);
                        docs.Write(ids.Count); docs.Write(prompt);
                    }
                    encoding = null;
                }
                void Flush()
                {
                    Write();
                    var documents = block.ToArray();
                    encoding = Task.Run(() =>
                    {
                        var encoded = new (IReadOnlyList<int> Ids, int Prompt)[documents.Length];
                        Parallel.For(0, documents.Length, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellation },
                            i => encoded[i] = EncodeDocument(tokenizer, documents[i]));
                        return encoded;
                    }, cancellation);
                    block.Clear();
                    blockChars = 0;
                }
                foreach (var record in reader.Read(shard))
                {
                    cancellation.ThrowIfCancellationRequested();
                    if (record is not ParsedRecord { Document: var d })
                    {
                        // The factory reports malformed records; here they only count, and name the problem if nothing was usable.
                        unreadable++;
                        firstProblem ??= record is MalformedRecord m ? $"{shard.Name}: {m.Reason} ({m.Detail})" : shard.Name;
                        continue;
                    }
                    if (include is not null && !include(d)) continue;
                    block.Add(d);
                    blockChars += d.Text.Length;
                    if (block.Count >= 4096 || blockChars >= 16 << 20) Flush();
                }
                Flush();
                Write();
            }
            File.WriteAllText(marker, hash);   // after both part files are closed: a killed shard is redone
        }

        if (unreadable > 0 && shards.All(s => new FileInfo(Path.Combine(parts, s.Name + ".docs")).Length == 0))
            throw new InvalidDataException($"{outputDirectory}: none of the {unreadable:N0} records could be read (first: {firstProblem}); check the text field name");

        // Assemble: concatenate parts in shard order, then write the manifest last (its presence means "complete").
        long documents = 0, total = 0, supervised = 0;
        var tmp = Path.Combine(outputDirectory, "_assemble");
        Directory.CreateDirectory(tmp);
        using (var tokens = File.Create(Path.Combine(tmp, "tokens.bin")))
        using (var offsets = new BinaryWriter(File.Create(Path.Combine(tmp, "offsets.bin"))))
        using (var prompts = new BinaryWriter(File.Create(Path.Combine(tmp, "prompts.bin"))))
        {
            offsets.Write(0L);
            foreach (var shard in shards)
            {
                using (var part = File.OpenRead(Path.Combine(parts, shard.Name + ".tokens"))) part.CopyTo(tokens);
                using var docs = new BinaryReader(File.OpenRead(Path.Combine(parts, shard.Name + ".docs")));
                while (docs.BaseStream.Position < docs.BaseStream.Length)
                {
                    int length = docs.ReadInt32(), prompt = docs.ReadInt32();
                    total += length; documents++;
                    if (prompt > 0) supervised++;
                    offsets.Write(total); prompts.Write(prompt);
                }
            }
        }
        foreach (var f in new[] { "tokens.bin", "offsets.bin", "prompts.bin" }) File.Move(Path.Combine(tmp, f), Path.Combine(outputDirectory, f), overwrite: true);
        Directory.Delete(tmp);
        WriteManifest(outputDirectory, new TokenManifest(TokenManifest.CurrentFormat, hash, tokenizer.VocabSize, documents, total, supervised, shards.Select(s => s.Path).ToList()));
        Directory.Delete(parts, recursive: true);
        return TokenFile.Open(outputDirectory, hash);
    }

    /// <summary>
    /// A document's ids: supervised ones (with the <c>prompt_chars</c> attribute format-supervised writes) as prompt +
    /// answer, so training can mask the prompt; the prompt's length in tokens (0 for plain text).
    /// </summary>
    static (IReadOnlyList<int> Ids, int Prompt) EncodeDocument(ITokenizer tokenizer, Ziya2.Data.Document d)
    {
        if (d.Attributes.TryGetValue("prompt_chars", out var pc) && Convert.ToInt32(pc, System.Globalization.CultureInfo.InvariantCulture) is var chars && chars > 0 && chars <= d.Text.Length)
        {
            var prompt = tokenizer.Encode(d.Text[..chars]);
            return ([.. prompt, .. tokenizer.Encode(d.Text[chars..])], prompt.Count);
        }
        return (tokenizer.Encode(d.Text), 0);
    }

    /// <summary>The manifest is written last and atomically: its presence means the directory is complete.</summary>
    static void WriteManifest(string directory, TokenManifest manifest)
    {
        var path = Path.Combine(directory, "manifest.json");
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }));
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
