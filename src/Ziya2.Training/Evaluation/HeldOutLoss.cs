using Ziya2.Models;
using Ziya2.Training.Data;
using static TorchSharp.torch;

namespace Ziya2.Training.Evaluation;

/// <summary>
/// Mean next-token loss of a model on a held-out token file: every document on its own (truncated to the sequence
/// length), answers only where a document has a prompt and <c>maskPrompt</c> is set. Batches are right-padded, which a
/// causal model cannot see. Runs without gradients, inside a dispose scope per batch.
/// </summary>
public static class HeldOutLoss
{
    /// <summary>Nats per scored token and the number of tokens scored.</summary>
    public static (double Loss, long Tokens) Measure(ILanguageModel model, TokenFile file, int sequenceLength, int batchSize = 8, bool maskPrompt = true, long maxDocuments = long.MaxValue)
    {
        double sum = 0;
        long count = 0, documents = Math.Min(file.Documents, maxDocuments);
        using var _ = no_grad();
        var device = model.Device;
        for (long start = 0; start < documents; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var rows = new List<(int[] Tokens, int Prompt)>();
            for (long i = start; i < Math.Min(documents, start + batchSize); i++)
            {
                var doc = file.Document(i);
                if (doc.Length < 2) continue;
                rows.Add((doc.Length > sequenceLength + 1 ? doc[..(sequenceLength + 1)] : doc, maskPrompt ? file.PromptLength(i) : 0));
            }
            if (rows.Count == 0) continue;
            int width = rows.Max(r => r.Tokens.Length) - 1;
            var inputs = new long[rows.Count * width];
            var targets = new long[rows.Count * width];
            Array.Fill(targets, PackedSequence.IgnoreIndex);
            for (int r = 0; r < rows.Count; r++)
                for (int t = 0; t < rows[r].Tokens.Length - 1; t++)
                {
                    inputs[r * width + t] = rows[r].Tokens[t];
                    // Position t predicts token t+1; with a prompt, only answer tokens (index >= prompt length) are scored.
                    if (t + 1 >= rows[r].Prompt) targets[r * width + t] = rows[r].Tokens[t + 1];
                }
            var logits = model.Forward(tensor(inputs, device: device).view(rows.Count, width));
            var target = tensor(targets, device: device);
            long scored = target.ne(PackedSequence.IgnoreIndex).sum().item<long>();
            if (scored == 0) continue;
            sum += nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]).to_type(ScalarType.Float32), target,
                ignore_index: PackedSequence.IgnoreIndex, reduction: nn.Reduction.Sum).item<float>();
            count += scored;
        }
        return (count > 0 ? sum / count : double.NaN, count);
    }
}
