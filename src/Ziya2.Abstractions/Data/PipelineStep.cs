namespace Ziya2.Data;

/// <summary>
/// A named step of a data pipeline and how to make an instance of its filter: the engine calls <paramref name="Create"/>
/// once per worker, so filters need not be thread-safe. The name is what the funnel, the rejection reasons and the
/// options section (<c>[filters.&lt;name&gt;]</c>) call the step; one filter can run as two steps under two names.
/// </summary>
/// <param name="Name">The step's name in the pipeline.</param>
/// <param name="Create">Makes a new filter instance.</param>
public sealed record PipelineStep(string Name, Func<IDataFilter> Create);
