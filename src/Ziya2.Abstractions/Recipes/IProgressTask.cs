namespace Ziya2.Recipes;

/// <summary>
/// Progress of a long piece of work. Rendered as a live bar on an interactive terminal and as periodic plain
/// log lines when headless (no TTY, <c>CI=true</c>).
/// </summary>
public interface IProgressTask : IDisposable
{
    /// <summary>Advances by <paramref name="amount"/> and optionally replaces the status text (e.g. <c>loss 3.21</c>).</summary>
    void Advance(long amount = 1, string? status = null);
}
