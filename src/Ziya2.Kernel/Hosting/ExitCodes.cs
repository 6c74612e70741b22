namespace Ziya2.Kernel.Hosting;

/// <summary>Process exit codes shared by every command.</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;
    /// <summary>The run started and failed (the recipe threw, training diverged…).</summary>
    public const int RunFailed = 1;
    /// <summary>Invalid input: usage, configuration, recipe compilation, plugin or component errors. Nothing ran.</summary>
    public const int InvalidInput = 2;
}
