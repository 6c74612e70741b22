namespace Ziya2.Plugins;

/// <summary>Options type for components that take no configuration.</summary>
public sealed class NoOptions;
