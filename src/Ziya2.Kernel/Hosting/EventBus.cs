using Ziya2.Events;

namespace Ziya2.Kernel.Hosting;

/// <summary>
/// Dispatches events: every <see cref="IEventHandler"/> first (they may change the run through
/// <see cref="RunControl"/>), then every <see cref="IEventObserver"/>; each group by Order, ties in subscription order.
/// </summary>
public sealed class EventBus : IEventBus
{
    readonly List<(IRunCallback Callback, int Sequence)> _callbacks = [];
    IEventHandler[] _handlers = [];
    IEventObserver[] _observers = [];

    public void Subscribe(IRunCallback callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (callback is not (IEventHandler or IEventObserver))
            throw new ArgumentException($"{callback.GetType().FullName} implements neither {nameof(IEventHandler)} nor {nameof(IEventObserver)}");
        _callbacks.Add((callback, _callbacks.Count));
        var ordered = _callbacks.OrderBy(c => c.Callback.Order).ThenBy(c => c.Sequence).Select(c => c.Callback).ToList();
        _handlers = ordered.OfType<IEventHandler>().ToArray();
        _observers = ordered.OfType<IEventObserver>().Where(o => o is not IEventHandler).ToArray();
    }

    public RunControl Publish(RunEvent e)
    {
        var control = new RunControl();
        foreach (var h in _handlers) h.OnEvent(e, control);
        foreach (var o in _observers) o.OnEvent(e);
        return control;
    }
}
