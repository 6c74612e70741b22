using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Ziya2.Recipes;

namespace Ziya2.Kernel.Recipes;

/// <summary>
/// Finds, in a compiled recipe, every call to a recipe-API method marked <see cref="RecipeComponentAttribute"/>,
/// <see cref="RecipeConfigBindingAttribute"/> or <see cref="RecipePipelineAttribute"/>, so components and config can be checked before anything runs.
/// The attributes, not method names, drive this: the kernel knows no component kinds by heart.
/// </summary>
static class RecipeAnalyzer
{
    public static RecipeManifest Analyze(Compilation compilation)
    {
        var components = new List<ComponentRequest>();
        var bindings = new List<ConfigBinding>();
        var pipelines = new List<PipelineRequest>();
        var dynamic = new List<string>();
        foreach (var tree in compilation.SyntaxTrees)
        {
            var model = compilation.GetSemanticModel(tree);
            foreach (var call in tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>())
            {
                if (model.GetSymbolInfo(call).Symbol is not IMethodSymbol method) continue;
                var definition = method.ReducedFrom ?? method.OriginalDefinition;
                var attributes = definition.GetAttributes();
                var where = RecipeDiagnostic.Where(call.GetLocation());
                var component = attributes.FirstOrDefault(a => a.AttributeClass?.Name == nameof(RecipeComponentAttribute));
                if (component is not null)
                {
                    var kind = (string)component.ConstructorArguments[0].Value!;
                    var template = (string)component.ConstructorArguments[1].Value!;
                    var name = ConstantArgument(model, call, method, 0);
                    var sectionArg = ArgumentFor(call, method, 1);
                    string? section = sectionArg is null ? null : model.GetConstantValue(sectionArg.Expression) is { HasValue: true } c ? c.Value as string : "\u0000dynamic";
                    if (name is null || section == "\u0000dynamic") { dynamic.Add($"{where}: {method.Name}(…) with a non-constant argument"); continue; }
                    components.Add(new ComponentRequest(kind, name, section ?? template.Replace("{name}", name, StringComparison.Ordinal), where));
                    continue;
                }
                if (attributes.Any(a => a.AttributeClass?.Name == nameof(RecipePipelineAttribute)))
                {
                    if (ConstantArgument(model, call, method, 0) is { } pipeline) pipelines.Add(new PipelineRequest(pipeline, where));
                    else dynamic.Add($"{where}: {method.Name}(…) with a non-constant name");
                    continue;
                }
                if (attributes.Any(a => a.AttributeClass?.Name == nameof(RecipeConfigBindingAttribute)))
                {
                    var path = ConstantArgument(model, call, method, 0);
                    var type = method.TypeArguments.FirstOrDefault();
                    if (path is null || type is not INamedTypeSymbol named || named.IsGenericType && !IsNullableScalar(named))
                    { dynamic.Add($"{where}: {method.Name}(…) with a non-constant path or generic type"); continue; }
                    // A nullable of a recipe's own type binds as that type (the recipe's assembly cannot be named in a type string).
                    if (IsNullableScalar(named) && SymbolEqualityComparer.Default.Equals(named.TypeArguments[0].ContainingAssembly, compilation.Assembly))
                        named = (INamedTypeSymbol)named.TypeArguments[0];
                    var declaredInRecipe = SymbolEqualityComparer.Default.Equals(named.ContainingAssembly, compilation.Assembly);
                    bindings.Add(new ConfigBinding(path, MetadataName(named), declaredInRecipe ? null : named.ContainingAssembly.Name, where));
                }
            }
        }
        return new RecipeManifest(components, bindings, pipelines, dynamic);
    }

    static bool IsNullableScalar(INamedTypeSymbol t) => t.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T;

    static ArgumentSyntax? ArgumentFor(InvocationExpressionSyntax call, IMethodSymbol method, int index)
    {
        var parameter = method.Parameters.ElementAtOrDefault(index);
        if (parameter is null) return null;
        var args = call.ArgumentList.Arguments;
        var named = args.FirstOrDefault(a => a.NameColon?.Name.Identifier.ValueText == parameter.Name);
        if (named is not null) return named;
        return index < args.Count && args[index].NameColon is null ? args[index] : null;
    }

    static string? ConstantArgument(SemanticModel model, InvocationExpressionSyntax call, IMethodSymbol method, int index) =>
        ArgumentFor(call, method, index) is { } a && model.GetConstantValue(a.Expression) is { HasValue: true, Value: string s } ? s : null;

    /// <summary>
    /// <c>Ns.Outer+Inner`1</c>, as <see cref="System.Reflection.Assembly.GetType(string)"/> expects; <c>bool?</c> stays
    /// nullable (<c>System.Nullable`1[[System.Boolean]]</c>), so an optional scalar is not reported as missing.
    /// </summary>
    static string MetadataName(INamedTypeSymbol type)
    {
        if (type.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
        {
            var inner = (INamedTypeSymbol)type.TypeArguments[0];
            return $"System.Nullable`1[[{MetadataName(inner)}, {inner.ContainingAssembly.Name}]]";
        }
        var name = type.MetadataName;
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType) name = outer.MetadataName + "+" + name;
        var ns = type.ContainingNamespace;
        return ns is null || ns.IsGlobalNamespace ? name : ns.ToDisplayString() + "." + name;
    }
}
