namespace Ziya2.Events;

/// <summary>Base contract of callback components; implement <see cref="IEventObserver"/> or <see cref="IEventHandler"/>.</summary>
public interface IRunCallback
{
    /// <summary>Dispatch order among callbacks of the same role: lower first; equal orders keep registration order.</summary>
    int Order => 0;
}

/// <summary>
/// Observe-only callback (logging, metrics sinks, progress). Receives immutable snapshots after every
/// <see cref="IEventHandler"/> has run, so it sees the final state of the moment and cannot change it.
/// </summary>
public interface IEventObserver : IRunCallback
{
    /// <summary>Called for every published event.</summary>
    void OnEvent(RunEvent e);
}

/// <summary>
/// State-changing callback (early stopping, LR adjustments, on-demand checkpoints), as Composer's algorithms.
/// Handlers run before observers, in <see cref="IRunCallback.Order"/>, and act only through <see cref="RunControl"/>.
/// </summary>
public interface IEventHandler : IRunCallback
{
    /// <summary>Called for every published event; may change <paramref name="control"/>.</summary>
    void OnEvent(RunEvent e, RunControl control);
}

/// <summary>Dispatches events to the run's callbacks: handlers first, then observers, each group in order.</summary>
public interface IEventBus
{
    /// <summary>Adds a callback for the rest of the run.</summary>
    void Subscribe(IRunCallback callback);

    /// <summary>Publishes <paramref name="e"/> and returns the control the handlers filled in.</summary>
    RunControl Publish(RunEvent e);
}
