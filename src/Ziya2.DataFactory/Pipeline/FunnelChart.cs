using System.Globalization;
using System.Net;
using System.Text;

namespace Ziya2.DataFactory.Pipeline;

/// <summary>
/// The retention funnel as an SVG bar chart (the paper's Figure 2): documents remaining after each step, as a share of
/// the input. Written by hand — a few dozen lines of SVG need no plotting library with native dependencies.
/// </summary>
static class FunnelChart
{
    public static string Svg(PipelineStats stats)
    {
        const int width = 720, barHeight = 28, gap = 10, left = 200, top = 40;
        var bars = new List<(string Label, long Count)> { ("input", stats.Input) };
        bars.AddRange(stats.Steps.Select(s => ($"after {s.Name}", s.Kept)));
        int height = top + bars.Count * (barHeight + gap) + 20;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"13\">\n");
        sb.Append("<text x=\"10\" y=\"24\" font-size=\"16\" font-weight=\"bold\">Data factory funnel (documents kept, share of input)</text>\n");
        for (int i = 0; i < bars.Count; i++)
        {
            var (label, count) = bars[i];
            double share = stats.Input == 0 ? 0 : (double)count / stats.Input;
            int y = top + i * (barHeight + gap), w = (int)Math.Round(share * (width - left - 120));
            string lost = i == 0 ? "" : $" (−{(double)(bars[i - 1].Count - count) / Math.Max(1, stats.Input):P2})";
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 8}\" y=\"{y + 19}\" text-anchor=\"end\">{WebUtility.HtmlEncode(label)}</text>\n");
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{left}\" y=\"{y}\" width=\"{Math.Max(w, 1)}\" height=\"{barHeight}\" fill=\"#3b7dd8\"/>\n");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + Math.Max(w, 1) + 6}\" y=\"{y + 19}\">{share:P2} · {count:N0}{lost}</text>\n");
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }
}
