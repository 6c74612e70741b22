using Ziya2.Recipes;

namespace Ziya2.Configuration;

/// <summary>
/// The run's configuration: TOML files merged in order, then <c>--set key=value</c> overrides.
/// Sections are bound to typed options; keys nobody binds are reported as unknown.
/// </summary>
public interface IRecipeConfig
{
    /// <summary>
    /// Binds the value at a dotted <paramref name="path"/> (a table, or a scalar such as <c>train.steps</c>) to
    /// <typeparamref name="T"/>. A missing table yields a default-constructed <typeparamref name="T"/>.
    /// With a constant path the binding is checked by <c>ziya2 validate</c> before the recipe runs.
    /// </summary>
    [RecipeConfigBinding]
    T Get<T>(string path);

    /// <summary>Whether the configuration has a value at <paramref name="path"/>.</summary>
    bool Has(string path);

    /// <summary>
    /// The number at <paramref name="path"/> as written (an integer or a float), or null when the path is absent or
    /// holds something else. A lookup, not a binding: it checks nothing and, unlike <see cref="Get{T}"/> with a computed
    /// path, leaves <c>ziya2 validate</c>'s unknown-key check on — for code that reads options a component binds, such
    /// as the quality gate reading the thresholds it may tighten.
    /// </summary>
    double? Number(string path);

    /// <summary>
    /// A stable hex digest of the configured values under <paramref name="paths"/> (as written in the TOML files and
    /// overrides; absent paths count as absent). Resumable outputs use it to tell "same settings, carry on" from
    /// "different settings, refuse" — for example the data factory's output directory.
    /// </summary>
    string Fingerprint(params string[] paths);

    /// <summary>
    /// The configured values under <paramref name="paths"/> as a TOML document, each at its own dotted path (absent
    /// paths are left out) — what a worker process needs to run part of the recipe with the same settings, for example
    /// a data pipeline on a cluster.
    /// </summary>
    string Toml(params string[] paths);
}
