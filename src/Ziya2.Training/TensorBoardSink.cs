using static TorchSharp.torch.utils.tensorboard;

namespace Ziya2.Training;

/// <summary>Writes metrics as TensorBoard event files (TorchSharp's SummaryWriter), one scalar series per metric: <c>&lt;stage&gt;/&lt;name&gt;</c>.</summary>
public sealed class TensorBoardSink(string directory)
{
    readonly TorchSharp.Modules.SummaryWriter _writer = SummaryWriter(directory);

    public string Directory => _writer.LogDir;

    public void Write(string stage, long step, IReadOnlyDictionary<string, double> values)
    {
        // SummaryWriter's default wall time is not seconds since the epoch; pass it explicitly so TensorBoard's time axis works.
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        foreach (var (name, value) in values)
            if (double.IsFinite(value)) _writer.add_scalar($"{stage}/{name}", (float)value, checked((int)step), now);
    }
}
