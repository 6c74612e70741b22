using Ziya2.Configuration;
using Ziya2.Kernel.Configuration;

namespace Ziya2.Kernel.Tests.Configuration;

public enum Precision { Fp32, Bf16Mixed }

public sealed class TrainOptions : IValidatableOptions
{
    public int Steps { get; set; } = 10;
    public double Lr { get; set; } = 1e-4;
    public bool Packing { get; set; }
    public Precision Precision { get; set; } = Precision.Fp32;
    public List<string> Sources { get; set; } = [];
    public long? TokenBudget { get; set; }
    [ConfigKey("seq")] public int SequenceLength { get; set; } = 4096;
    public IEnumerable<string> Validate() { if (Steps <= 0) yield return "steps must be > 0"; }
}

public class ConfigTests
{
    static ConfigTree Tree(TempDir tmp, string toml, params string[] sets) => ConfigTree.Load([tmp.Write("c.toml", toml)], sets);

    [Fact]
    public void Binds_snake_case_keys_types_enums_lists_and_overrides()
    {
        using var tmp = new TempDir();
        var tree = Tree(tmp, "[train]\nsteps = 5\nlr = 3e-4\nprecision = \"bf16_mixed\"\nsources = [\"a\", \"b\"]\nseq = 128\n", "train.steps=7", "train.packing=true", "train.token_budget=1000000");
        var o = new OptionsBinder(tree).Bind<TrainOptions>("train");
        Assert.Equal(7, o.Steps);
        Assert.Equal(3e-4, o.Lr);
        Assert.True(o.Packing);
        Assert.Equal(Precision.Bf16Mixed, o.Precision);
        Assert.Equal(["a", "b"], o.Sources);
        Assert.Equal(128, o.SequenceLength);
        Assert.Equal(1_000_000L, o.TokenBudget);
    }

    public sealed class Stage { public string Name { get; set; } = ""; public long Steps { get; set; } }
    public sealed class Regime { public List<Stage> Stages { get; set; } = []; }

    [Fact]
    public void Set_reaches_an_element_of_an_array_of_tables_by_name_or_index_and_names_the_choices_when_wrong()
    {
        using var tmp = new TempDir();
        const string toml = "[[regime.stages]]\nname = \"general\"\nsteps = 200\n[[regime.stages]]\nname = \"math\"\nsteps = 120\n";
        var regime = new OptionsBinder(Tree(tmp, toml, "regime.stages.math.steps=30", "regime.stages.0.steps=40")).Bind<Regime>("regime");
        Assert.Equal([("general", 40L), ("math", 30L)], regime.Stages.Select(s => (s.Name, s.Steps)));

        var e = Assert.Throws<ConfigException>(() => Tree(tmp, toml, "regime.stages.supervised.steps=1"));
        Assert.Contains("'regime.stages' has no element 'supervised' (an index below 2 or the name of one: general, math)", e.Message);
    }

    [Fact]
    public void Fingerprint_ignores_key_order_and_sees_every_change()
    {
        using var tmp = new TempDir();
        string Print(string toml, params string[] sets) =>
            new Ziya2.Kernel.Hosting.RecipeConfig(ConfigTree.Load([tmp.Write($"{Guid.NewGuid():N}.toml", toml)], sets)).Fingerprint("filters", "factory");
        var a = Print("[filters.x]\na = 1\nb = \"s\"\n[factory]\nn = [1, 2]\n[other]\nz = 1\n");
        Assert.Equal(a, Print("[factory]\nn = [1, 2]\n[filters.x]\nb = \"s\"\na = 1\n"));          // order, unrelated sections
        Assert.NotEqual(a, Print("[filters.x]\na = 1\nb = \"s\"\n[factory]\nn = [2, 1]\n"));
        Assert.NotEqual(a, Print("[filters.x]\na = 1\nb = \"s\"\n[factory]\nn = [1, 2]\n", "filters.x.a=2"));
        Assert.NotEqual(a, Print("[filters.x]\na = 1\nb = \"s\"\n"));                            // a section gone
    }

    [Fact]
    public void With_applies_assignments_to_a_copy_and_leaves_the_tree_and_its_arrays_alone()
    {
        using var tmp = new TempDir();
        var tree = Tree(tmp, "[filters.html-remnants]\nthreshold = 5\n[filters.advertising]\nlists = [\"a.txt\"]\nmin_hits = 2\n");
        var copy = tree.With(["filters.html-remnants.threshold=2", "filters.advertising.min_hits=1"]);
        Assert.Equal(2L, copy.Find("filters.html-remnants.threshold"));
        Assert.Equal(1L, copy.Find("filters.advertising.min_hits"));
        Assert.Equal(5L, tree.Find("filters.html-remnants.threshold"));
        Assert.Equal(2L, tree.Find("filters.advertising.min_hits"));
        ((Tomlyn.Model.TomlArray)copy.Find("filters.advertising.lists")!).Add("b.txt");   // deep: the copy's arrays are its own
        Assert.Single((Tomlyn.Model.TomlArray)tree.Find("filters.advertising.lists")!);
        Assert.Equal(2.0, new Ziya2.Kernel.Hosting.RecipeConfig(copy).Number("filters.html-remnants.threshold"));
        Assert.Null(new Ziya2.Kernel.Hosting.RecipeConfig(copy).Number("filters.advertising.lists"));
        Assert.Null(new Ziya2.Kernel.Hosting.RecipeConfig(copy).Number("filters.nothing.here"));
    }

    [Fact]
    public void Later_files_override_earlier_ones_key_by_key()
    {
        using var tmp = new TempDir();
        var tree = ConfigTree.Load([tmp.Write("a.toml", "[train]\nsteps = 5\nlr = 0.1\n"), tmp.Write("b.toml", "[train]\nsteps = 9\n")], []);
        var o = new OptionsBinder(tree).Bind<TrainOptions>("train");
        Assert.Equal(9, o.Steps);
        Assert.Equal(0.1, o.Lr);
        Assert.EndsWith("b.toml", tree.OriginOf("train.steps"));
    }

    [Fact]
    public void Included_files_lie_beneath_the_file_that_includes_them_relative_to_it()
    {
        using var tmp = new TempDir();
        tmp.Write("shared/base.toml", "include = [\"deeper.toml\"]\n[train]\nsteps = 5\nlr = 0.1\n");
        tmp.Write("shared/deeper.toml", "[train]\nsteps = 1\nprecision = \"bf16_mixed\"\n");
        var config = tmp.Write("configs/run.toml", "include = [\"../shared/base.toml\"]\n[train]\nsteps = 9\n");
        var tree = ConfigTree.Load([config], ["train.lr=0.2"]);
        var o = new OptionsBinder(tree).Bind<TrainOptions>("train");
        Assert.Equal((9, 0.2, Precision.Bf16Mixed), (o.Steps, o.Lr, o.Precision));   // the includer wins, --set wins over all
        Assert.EndsWith("deeper.toml", tree.OriginOf("train.precision"));
        Assert.Null(tree.Find("include"));                                             // not a setting: nothing reports it as unknown
        Assert.Empty(tree.UnconsumedLeaves());
    }

    [Fact]
    public void Includes_that_loop_are_missing_or_malformed_are_errors()
    {
        using var tmp = new TempDir();
        tmp.Write("a.toml", "include = [\"b.toml\"]\n");
        tmp.Write("b.toml", "include = [\"a.toml\", \"gone.toml\"]\n");
        var e = Assert.Throws<ConfigException>(() => ConfigTree.Load([tmp.Combine("a.toml")], []));
        Assert.Contains(e.Errors, x => x.Message.StartsWith("files include each other: ", StringComparison.Ordinal) && x.Message.Contains("a.toml → ") && x.Message.EndsWith("a.toml"));
        Assert.Contains(e.Errors, x => x.Message == "config file not found" && x.Origin!.Contains("gone.toml (included by "));
        e = Assert.Throws<ConfigException>(() => ConfigTree.Load([tmp.Write("c.toml", "include = \"a.toml\"\n")], []));
        Assert.Contains("expected an array of file paths", Assert.Single(e.Errors).Message);
    }

    [Fact]
    public void Pipeline_definitions_list_steps_with_their_filter_and_section_and_check_skip()
    {
        using var tmp = new TempDir();
        var tree = Tree(tmp, """
            [pipelines.clean]
            steps = ["language", "ads", "spam"]
            skip = ["spam"]
            [filters.ads]
            use = "word-list"
            lists = ["a.txt"]
            [pipelines.broken]
            steps = ["a", "a"]
            skip = ["b"]
            """);
        var errors = new List<ConfigError>();
        var steps = PipelineDefinitions.Read(tree, "clean", errors)!;
        Assert.Empty(errors);
        Assert.Equal([("language", "language", "filters.language", false), ("ads", "word-list", "filters.ads", false), ("spam", "spam", "filters.spam", true)],
            steps.Select(s => (s.Name, s.Filter, s.Section, s.Skipped)));
        Assert.Equal(["clean", "broken"], PipelineDefinitions.Names(tree));

        Assert.Equal(["a", "a"], PipelineDefinitions.Read(tree, "broken", errors)!.Select(s => s.Name));   // still listed, so their options get checked
        Assert.Contains(errors, x => x.Message.Contains("step 'a' appears twice"));
        Assert.Contains(errors, x => x.Message.Contains("skip names 'b'"));
        errors.Clear();
        Assert.Null(PipelineDefinitions.Read(tree, "dirty", errors));
        Assert.Contains("no pipeline named 'dirty' is defined (defined: clean, broken)", Assert.Single(errors).Message);
    }

    [Fact]
    public void Set_with_wrong_type_is_reported_with_its_origin()
    {
        using var tmp = new TempDir();
        var tree = Tree(tmp, "[train]\nsteps = 5\n", "train.steps=many");
        var e = Assert.Throws<ConfigException>(() => new OptionsBinder(tree).Bind<TrainOptions>("train"));
        var error = Assert.Single(e.Errors);
        Assert.Equal("train.steps", error.Path);
        Assert.Contains("expected integer", error.Message);
        Assert.Contains("string \"many\"", error.Message);
        Assert.Equal("--set train.steps=many", error.Origin);
    }

    [Fact]
    public void All_errors_are_reported_together_including_unknown_keys_with_suggestions()
    {
        using var tmp = new TempDir();
        var tree = Tree(tmp, "[train]\nstepz = 5\nlr = \"fast\"\nsteps = 0\nprecision = \"fp8\"\n", "train.packing=3");
        var e = Assert.Throws<ConfigException>(() => new OptionsBinder(tree).Bind<TrainOptions>("train"));
        Assert.Equal(5, e.Errors.Count);
        Assert.Contains(e.Errors, x => x.Path == "train.stepz" && x.Message.Contains("did you mean 'steps'"));
        Assert.Contains(e.Errors, x => x.Path == "train.lr" && x.Message.Contains("expected float"));
        Assert.Contains(e.Errors, x => x.Path == "train.precision" && x.Message.Contains("fp32, bf16_mixed"));
        Assert.Contains(e.Errors, x => x.Path == "train.packing" && x.Message.Contains("expected boolean"));
        Assert.Contains(e.Errors, x => x.Message == "steps must be > 0");
    }

    [Fact]
    public void Integer_overflow_is_an_error_not_a_wraparound()
    {
        using var tmp = new TempDir();
        var tree = Tree(tmp, "[train]\nsteps = 9999999999\n");
        var e = Assert.Throws<ConfigException>(() => new OptionsBinder(tree).Bind<TrainOptions>("train"));
        Assert.Contains("does not fit", Assert.Single(e.Errors).Message);
    }

    [Fact]
    public void Keys_outside_every_binding_are_unconsumed()
    {
        using var tmp = new TempDir();
        var tree = Tree(tmp, "[train]\nsteps = 5\n[eval]\nevery = 10\n", "extra.flag=true");
        new OptionsBinder(tree).Bind<TrainOptions>("train");
        Assert.Equal(["eval.every", "extra.flag"], tree.UnconsumedLeaves());
    }

    [Fact]
    public void Toml_syntax_error_points_at_file_line_and_column()
    {
        using var tmp = new TempDir();
        var path = tmp.Write("bad.toml", "[train]\nsteps = 5\nlr = = 3\n");
        var e = Assert.Throws<ConfigException>(() => ConfigTree.Load([path], []));
        Assert.StartsWith($"{path}:3:", Assert.Single(e.Errors).Origin);
    }

    [Fact]
    public void Missing_config_file_is_an_error()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigTree.Load(["/nonexistent/x.toml"], []));
        Assert.Contains("not found", Assert.Single(e.Errors).Message);
    }

    [Fact]
    public void Bound_options_serialize_back_with_defaults()
    {
        var table = (Tomlyn.Model.TomlTable)OptionsBinder.ToToml(new TrainOptions { Steps = 3 })!;
        Assert.Equal(3L, table["steps"]);
        Assert.Equal(4096L, table["seq"]);
        Assert.Equal("fp32", table["precision"]);
    }

    [Theory]
    [InlineData("WarmupFraction", "warmup_fraction")]
    [InlineData("LRMin", "lr_min")]
    [InlineData("Beta1", "beta1")]
    [InlineData("NumKeyValueHeads", "num_key_value_heads")]
    public void Property_names_map_to_snake_case(string property, string key) => Assert.Equal(key, OptionsBinder.ToSnake(property));
}
