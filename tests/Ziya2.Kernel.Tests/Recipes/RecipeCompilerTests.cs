using Ziya2.Kernel.Recipes;

namespace Ziya2.Kernel.Tests.Recipes;

public class RecipeCompilerTests
{
    [Fact]
    public void Compile_error_in_a_loaded_file_points_at_that_file_line_and_column()
    {
        using var tmp = new TempDir();
        tmp.Write("lib/helpers.csx", "// helpers\nint Twice(int x) => x * 2;\nint Broken() => undefinedName;\n");
        var recipe = tmp.Write("main.csx", "#load \"lib/helpers.csx\"\nvar y = Twice(2);\n");
        var e = Assert.Throws<RecipeException>(() => new RecipeCompiler(tmp.Combine("cache")).Compile(recipe));
        var d = Assert.Single(e.Diagnostics);
        Assert.Equal(tmp.Combine("lib", "helpers.csx"), d.File);
        Assert.Equal((3, 17), (d.Line, d.Column));
        Assert.Equal("CS0103", d.Id);
        Assert.Matches(@"helpers\.csx:3:17: error CS0103: The name 'undefinedName' does not exist", d.ToString());
    }

    [Fact]
    public void Missing_load_target_and_reference_directives_are_located()
    {
        using var tmp = new TempDir();
        var recipe = tmp.Write("main.csx", "// x\n#load \"nope.csx\"\n#r \"Some.dll\"\n");
        var e = Assert.Throws<RecipeException>(() => new RecipeCompiler(tmp.Combine("cache")).Compile(recipe));
        Assert.Contains(e.Diagnostics, d => d.Line == 2 && d.Message.Contains("nope.csx"));
        Assert.Contains(e.Diagnostics, d => d.Line == 3 && d.Id == "ZY0002");
    }

    [Fact]
    public void Second_compile_is_a_cache_hit_and_a_changed_loaded_file_is_a_miss()
    {
        using var tmp = new TempDir();
        var lib = tmp.Write("lib.csx", "int Value() => 1;\n");
        var recipe = tmp.Write("main.csx", "#load \"lib.csx\"\nLog.LogInformation(\"{V}\", Value());\n");
        var compiler = new RecipeCompiler(tmp.Combine("cache"));
        var first = compiler.Compile(recipe);
        var second = compiler.Compile(recipe);
        Assert.False(first.FromCache);
        Assert.True(second.FromCache);
        Assert.Equal(first.Hash, second.Hash);
        Assert.Equal(first.Assembly, second.Assembly);
        File.WriteAllText(lib, "int Value() => 2;\n");
        var third = compiler.Compile(recipe);
        Assert.False(third.FromCache);
        Assert.NotEqual(first.Hash, third.Hash);
    }

    [Fact]
    public void Damaged_cache_entry_is_recompiled()
    {
        using var tmp = new TempDir();
        var recipe = tmp.Write("main.csx", "var a = 1;\n");
        var compiler = new RecipeCompiler(tmp.Combine("cache"));
        var first = compiler.Compile(recipe);
        File.WriteAllText(Path.Combine(compiler.CacheDirectory, first.Hash, "manifest.json"), "{ truncated");
        var again = compiler.Compile(recipe);
        Assert.False(again.FromCache);
        Assert.True(compiler.Compile(recipe).FromCache);
    }

    [Fact]
    public void Manifest_lists_constant_component_requests_and_config_bindings()
    {
        using var tmp = new TempDir();
        var recipe = tmp.Write("main.csx", """
            public class Train { public int Steps { get; set; } = 1; }
            var t = Config.Get<Train>("train");
            var n = Config.Get<int>("eval.every");
            var f = Filter("min-length");
            var m = Model("llama", section: "models.small");
            var name = "x" + t.Steps;
            var o = Optimizer(name);
            """);
        var manifest = new RecipeCompiler(tmp.Combine("cache")).Compile(recipe).Manifest;
        Assert.Equal([("filter", "min-length", "filters.min-length"), ("model", "llama", "models.small")],
            manifest.Components.Select(c => (c.Kind, c.Name, c.Section)));
        Assert.Contains(manifest.Bindings, b => b.Path == "train" && b.TypeName == "Submission#0+Train" && b.AssemblyName is null);
        Assert.Contains(manifest.Bindings, b => b.Path == "eval.every" && b.TypeName == "System.Int32");
        Assert.Contains("Optimizer(", Assert.Single(manifest.DynamicCalls));
    }
}
