using Autofac;
using Autofac.Core;
using Microsoft.Extensions.Logging;
using Ziya2.Events;
using Ziya2.Kernel.Plugins;
using Ziya2.Plugins;

namespace Ziya2.Kernel.Hosting;

/// <summary>Registers one plugin's components, keyed by kind and name, as an Autofac module.</summary>
sealed class PluginModule(IEnumerable<ComponentDescriptor> components) : Module
{
    protected override void Load(ContainerBuilder builder)
    {
        foreach (var c in components)
            builder.RegisterType(c.ImplementationType).Keyed(ComponentContainer.Key(c.Kind, c.Name), c.Kind.ServiceType).InstancePerDependency();
    }
}

/// <summary>
/// The Autofac container of a run: host services plus every usable plugin component. Components are built on
/// request with their bound options object supplied as a typed parameter; constructors may also ask for
/// <c>ILogger&lt;T&gt;</c>, <see cref="IEventBus"/> and <see cref="IRunEnvironment"/>. Disposing the container
/// disposes the components it built.
/// </summary>
public sealed class ComponentContainer : IDisposable
{
    readonly IContainer _container;

    public ComponentContainer(PluginCatalog catalog, ILoggerFactory loggers, IEventBus events, IRunEnvironment environment)
    {
        Catalog = catalog;
        var builder = new ContainerBuilder();
        builder.RegisterInstance(loggers).As<ILoggerFactory>().ExternallyOwned();
        builder.RegisterGeneric(typeof(Logger<>)).As(typeof(ILogger<>)).SingleInstance();
        builder.RegisterInstance(events).As<IEventBus>().ExternallyOwned();
        builder.RegisterInstance(environment).As<IRunEnvironment>().ExternallyOwned();
        foreach (var plugin in catalog.Usable.GroupBy(c => c.Plugin))
            builder.RegisterModule(new PluginModule(plugin));
        _container = builder.Build();
    }

    public PluginCatalog Catalog { get; }

    internal static string Key(ComponentKind kind, string name) => kind.Name + ":" + name;

    /// <summary>Constructs component <paramref name="name"/> of <paramref name="kind"/> with <paramref name="options"/>.</summary>
    public object Resolve(ComponentKind kind, string name, object options)
    {
        var descriptor = Catalog.Get(kind, name);
        try
        {
            return _container.ResolveKeyed(Key(kind, name), kind.ServiceType, new TypedParameter(descriptor.OptionsType, options));
        }
        catch (DependencyResolutionException e)
        {
            var inner = e.GetBaseException();
            throw new ComponentConstructionException($"{kind} '{name}' ({descriptor.ImplementationType.FullName} from {descriptor.Plugin.Name}) could not be constructed: {inner.Message}", e);
        }
    }

    public void Dispose() => _container.Dispose();
}

/// <summary>A component's constructor failed or needed a service nobody provides.</summary>
public sealed class ComponentConstructionException(string message, Exception inner) : Exception(message, inner);
