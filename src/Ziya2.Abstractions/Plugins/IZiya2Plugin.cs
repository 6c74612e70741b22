namespace Ziya2.Plugins;

/// <summary>
/// Entry point of a plugin assembly. The kernel creates every public, non-abstract implementation with a
/// parameterless constructor and calls <see cref="Register"/> once, at load time. Do no heavy work here:
/// components are constructed later, when a recipe asks for them.
/// </summary>
public interface IZiya2Plugin
{
    /// <summary>Declares the components this plugin provides.</summary>
    void Register(IPluginRegistrar registrar);
}
