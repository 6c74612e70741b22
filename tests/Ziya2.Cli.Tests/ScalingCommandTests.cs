using System.Globalization;
using System.Text.Json;

namespace Ziya2.Cli.Tests;

public sealed class ScalingCommandTests : IDisposable
{
    readonly string _tmp = Directory.CreateTempSubdirectory("ziya2-scaling-cli-").FullName;

    static double PaperLaw(double v, double ch, double ra, double sim) => Math.Pow((1.66 * ch + 1.98 * ra + 0.70 * sim) * v + 1.24e10, -0.06) + 0.31;

    [Fact]
    public void Fit_writes_coefficients_and_plots_and_predict_uses_them()
    {
        // Noise-free samples of the paper's law over three "stages" and two "benchmarks", with an extra column.
        var rows = new List<string> { "stage,benchmark,tokens,coherence,readability,similarity,loss" };
        (double Ch, double Ra)[] stages = [(0.801, 0.917), (0.653, 0.975), (0.993, 0.916)];
        double[][] sims = [[0.67, 0.57], [0.74, 0.56], [0.66, 0.75]];
        for (int s = 0; s < 3; s++)
            for (int b = 0; b < 2; b++)
                foreach (var v in new[] { 1e8, 1e9, 1e10, 1e11, 1e13 })
                    rows.Add(string.Create(CultureInfo.InvariantCulture, $"{s + 1},b{b},{v:R},{stages[s].Ch},{stages[s].Ra},{sims[s][b]},{PaperLaw(v, stages[s].Ch, stages[s].Ra, sims[s][b]):R}"));
        var csv = Path.Combine(_tmp, "samples.csv");
        File.WriteAllLines(csv, rows);

        var outDir = Path.Combine(_tmp, "fit");
        var (code, stdout, err) = CliRunner.Run(["scaling", "fit", csv, "--grid", "coarse", "--out", outDir, "--json"]);
        Assert.True(code == 0, err);
        var result = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(30, result.GetProperty("samples").GetInt32());
        Assert.InRange(result.GetProperty("law").GetProperty("alpha").GetDouble(), 0.054, 0.066);
        Assert.True(result.GetProperty("quality").GetProperty("max_relative_error").GetDouble() < 1e-3);
        Assert.Equal(6, result.GetProperty("identifiability").GetProperty("weakest_direction").EnumerateObject().Count());
        Assert.All(new[] { "fit.json", "loss-vs-coherence.png", "loss-vs-readability.png", "loss-vs-similarity.png" }, f => Assert.True(File.Exists(Path.Combine(outDir, f)), f));

        (code, stdout, err) = CliRunner.Run(["scaling", "predict", "--paper", "--tokens", "1e11", "--coherence", "0.8", "--readability", "0.9", "--similarity", "0.7", "--json"]);
        Assert.True(code == 0, err);
        Assert.Equal(PaperLaw(1e11, 0.8, 0.9, 0.7), JsonDocument.Parse(stdout).RootElement.GetProperty("loss").GetDouble(), 12);
        (code, stdout, err) = CliRunner.Run(["scaling", "predict", "--fit", Path.Combine(outDir, "fit.json"), "--tokens", "1e11", "--coherence", "0.8", "--readability", "0.9", "--similarity", "0.7", "--json"]);
        Assert.True(code == 0, err);
        Assert.Equal(PaperLaw(1e11, 0.8, 0.9, 0.7), JsonDocument.Parse(stdout).RootElement.GetProperty("loss").GetDouble(), 3);

        File.AppendAllText(csv, "4,b0,1e9,0.5,0.5,0.5,-1\n");
        (code, _, err) = CliRunner.Run(["scaling", "fit", csv, "--grid", "coarse"]);
        Assert.Equal(2, code);
        Assert.Contains(":32: loss must be > 0", err);
    }

    [Fact]
    public void Plan_proposes_the_best_mixture_ranks_candidates_and_refuses_bad_sources()
    {
        var sources = Path.Combine(_tmp, "sources.csv");
        File.WriteAllLines(sources, ["name,tokens,coherence,readability,similarity", "general,4e11,0.801,0.917,0.6714", "math,2e10,0.993,0.916,0.6827", "noisy-web,1e12,0.35,0.40,0.30"]);
        var (code, stdout, err) = CliRunner.Run(["scaling", "plan", "--sources", sources, "--paper", "--budget", "1e11",
            "--mixture", "web:general=3,noisy-web=7", "--mixture", "clean:general=9,math=1", "--mixture", "math-heavy:math=1,general=1", "--json"]);
        Assert.True(code == 0, err);
        var plan = JsonDocument.Parse(stdout).RootElement;
        // All 2e10 math tokens (the best per token), the rest general; the law's loss for that mix.
        var best = plan.GetProperty("best");
        Assert.Equal(2e10, best.GetProperty("tokens").GetProperty("math").GetDouble());
        Assert.Equal(8e10, best.GetProperty("tokens").GetProperty("general").GetDouble());
        double ch = (8e10 * 0.801 + 2e10 * 0.993) / 1e11, ra = (8e10 * 0.917 + 2e10 * 0.916) / 1e11, sim = (8e10 * 0.6714 + 2e10 * 0.6827) / 1e11;
        Assert.Equal(PaperLaw(1e11, ch, ra, sim), best.GetProperty("loss").GetDouble(), 12);
        // math-heavy would draw 5e10 of math's 2e10: ranked last, as infeasible.
        Assert.Equal(["clean", "web", "math-heavy"], plan.GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("label").GetString()));
        Assert.False(plan.GetProperty("candidates")[2].GetProperty("feasible").GetBoolean());

        (code, stdout, err) = CliRunner.Run(["scaling", "plan", "--sources", sources, "--paper", "--target-loss", "0.2"]);
        Assert.True(code == 0, err);
        Assert.Contains("No mixture of these sources reaches loss 0.20000", stdout);

        File.AppendAllLines(sources, ["books,1e10,0.9,lots,0.5"]);
        (code, _, err) = CliRunner.Run(["scaling", "plan", "--sources", sources, "--paper", "--budget", "1e11"]);
        Assert.Equal(2, code);
        Assert.Contains("sources.csv:5: column 'readability' is 'lots', not a number", err);
        (code, _, err) = CliRunner.Run(["scaling", "plan", "--sources", sources, "--budget", "1e11"]);
        Assert.Equal(2, code);
        Assert.Contains("give --fit fit.json or --paper", err);
    }

    public void Dispose() { try { Directory.Delete(_tmp, recursive: true); } catch (IOException) { } }
}
