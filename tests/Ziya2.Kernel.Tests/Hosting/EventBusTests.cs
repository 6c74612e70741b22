using Ziya2.Events;
using Ziya2.Kernel.Hosting;

namespace Ziya2.Kernel.Tests.Hosting;

public class EventBusTests
{
    sealed class Observer(string name, int order, List<string> log) : IEventObserver
    {
        public int Order => order;
        public void OnEvent(RunEvent e) => log.Add($"{name}:{e.Name}");
    }

    sealed class StopOnLoss(int order, List<string> log) : IEventHandler
    {
        public int Order => order;
        public void OnEvent(RunEvent e, RunControl control)
        {
            log.Add($"handler{order}:{e.Name}");
            if (e.Metrics.TryGetValue("loss", out var loss) && double.IsNaN(loss)) control.RequestStop("loss is NaN");
        }
    }

    [Fact]
    public void Handlers_run_before_observers_each_in_order_then_subscription_order()
    {
        var log = new List<string>();
        var bus = new EventBus();
        bus.Subscribe(new Observer("o-late", 5, log));
        bus.Subscribe(new Observer("o-a", 0, log));
        bus.Subscribe(new StopOnLoss(1, log));
        bus.Subscribe(new Observer("o-b", 0, log));
        bus.Subscribe(new StopOnLoss(-1, log));
        var control = bus.Publish(new RunEvent(RunEvents.BatchEnd, 3, "general", new Dictionary<string, double> { ["loss"] = double.NaN }));
        Assert.Equal(["handler-1:batch_end", "handler1:batch_end", "o-a:batch_end", "o-b:batch_end", "o-late:batch_end"], log);
        Assert.True(control.StopRequested);
        Assert.Equal("loss is NaN", control.StopReason);
    }
}
