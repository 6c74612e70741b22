namespace Ziya2.Events;

/// <summary>Something that wants to know what the engines do (console progress, metrics files, TensorBoard, reports).</summary>
public interface IEventObserver
{
    /// <summary>
    /// Called for every published event, on the publisher's thread, one event at a time. Keep it quick; an exception
    /// propagates to the publisher (a sink that cannot write should fail the run, not lose metrics silently).
    /// </summary>
    void OnEvent(RunEvent e);
}

/// <summary>
/// The run's event bus: engines (trainer, data pipelines) publish <see cref="RunEvent"/>s, observers subscribe.
/// The host gives every recipe one (<c>Events</c>) with the console progress and the metrics file already subscribed.
/// </summary>
public interface IEventBus
{
    /// <summary>Adds <paramref name="observer"/>; disposing the result removes it again.</summary>
    IDisposable Subscribe(IEventObserver observer);

    /// <summary>Delivers <paramref name="e"/> to every observer, in subscription order.</summary>
    void Publish(RunEvent e);
}

/// <summary>
/// The standard <see cref="IEventBus"/>: thread-safe (a data pipeline publishes from its shard workers), delivery
/// serialised, observers in subscription order.
/// </summary>
public sealed class EventBus : IEventBus
{
    readonly object _gate = new();
    IEventObserver[] _observers = [];

    /// <inheritdoc/>
    public IDisposable Subscribe(IEventObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        lock (_gate) _observers = [.. _observers, observer];
        return new Subscription(this, observer);
    }

    /// <inheritdoc/>
    public void Publish(RunEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        lock (_gate)
            foreach (var o in _observers) o.OnEvent(e);
    }

    void Remove(IEventObserver observer)
    {
        lock (_gate)
        {
            int i = Array.IndexOf(_observers, observer);
            if (i >= 0) _observers = [.. _observers[..i], .. _observers[(i + 1)..]];
        }
    }

    sealed class Subscription(EventBus bus, IEventObserver observer) : IDisposable
    {
        int _disposed;
        public void Dispose() { if (Interlocked.Exchange(ref _disposed, 1) == 0) bus.Remove(observer); }
    }

}

/// <summary>Helpers over <see cref="IEventBus"/>.</summary>
public static class EventBusExtensions
{
    /// <summary>Subscribes a delegate (<c>Events.Subscribe(e => …)</c> in a recipe); disposing the result removes it.</summary>
    public static IDisposable Subscribe(this IEventBus bus, Action<RunEvent> observer) => bus.Subscribe(new DelegateObserver(observer));

    sealed class DelegateObserver(Action<RunEvent> action) : IEventObserver
    {
        public void OnEvent(RunEvent e) => action(e);
    }
}
