using Ziya2.Events;
using static TorchSharp.torch.utils.tensorboard;

namespace Ziya2.Training;

/// <summary>
/// Writes metrics as TensorBoard event files (TorchSharp's SummaryWriter), one scalar series per metric:
/// <c>&lt;series&gt;/&lt;name&gt;</c> (a training stage's name for its curves). Subscribe it to a run's events
/// (<c>Events.Subscribe(new TensorBoardSink(dir))</c>) and it records every <see cref="RunEvents.Metrics"/> event. The
/// event file is created with the first metric, so a sink that hears none (a data-parallel rank other than 0) writes none.
/// </summary>
public sealed class TensorBoardSink(string directory) : IEventObserver
{
    readonly Lazy<TorchSharp.Modules.SummaryWriter> _writer = new(() => SummaryWriter(directory));

    public string Directory => directory;

    public void OnEvent(RunEvent e)
    {
        if (e.Name == RunEvents.Metrics && e.Step >= 0) Write(e.Stage ?? "metrics", e.Step, e.Metrics);
    }

    public void Write(string stage, long step, IReadOnlyDictionary<string, double> values)
    {
        // SummaryWriter's default wall time is not seconds since the epoch; pass it explicitly so TensorBoard's time axis works.
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        foreach (var (name, value) in values)
            if (double.IsFinite(value)) _writer.Value.add_scalar($"{stage}/{name}", (float)value, checked((int)step), now);
    }
}
