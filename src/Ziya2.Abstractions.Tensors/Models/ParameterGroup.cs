using TorchSharp.Modules;

namespace Ziya2.Models;

/// <summary>
/// A named set of parameters that an optimizer treats alike. Models put matrices in a <c>decay</c> group and
/// norms, biases and (optionally) embeddings in a <c>no_decay</c> group, so weight decay can be excluded.
/// </summary>
/// <param name="Name">Group name, e.g. <c>decay</c>.</param>
/// <param name="Parameters">The parameters.</param>
/// <param name="ApplyWeightDecay">Whether the optimizer's weight decay applies to this group.</param>
public sealed record ParameterGroup(string Name, IReadOnlyList<Parameter> Parameters, bool ApplyWeightDecay);
