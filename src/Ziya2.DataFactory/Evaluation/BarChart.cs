using System.Globalization;
using System.Net;
using System.Text;

namespace Ziya2.DataFactory.Evaluation;

/// <summary>A horizontal bar chart as SVG: labels, bars scaled to the largest value, and the value text.</summary>
public static class BarChart
{
    public static string Svg(string title, IReadOnlyList<(string Label, double Value, string Text)> bars)
    {
        const int width = 720, barHeight = 22, gap = 8, left = 180, top = 40;
        int height = top + Math.Max(1, bars.Count) * (barHeight + gap) + 20;
        double max = bars.Count == 0 ? 1 : Math.Max(bars.Max(b => b.Value), 1e-12);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"13\">\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"10\" y=\"24\" font-size=\"16\" font-weight=\"bold\">{WebUtility.HtmlEncode(title)}</text>\n");
        for (int i = 0; i < bars.Count; i++)
        {
            var (label, value, text) = bars[i];
            int y = top + i * (barHeight + gap), w = (int)Math.Round(value / max * (width - left - 140));
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 8}\" y=\"{y + 16}\" text-anchor=\"end\">{WebUtility.HtmlEncode(label)}</text>\n");
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{left}\" y=\"{y}\" width=\"{Math.Max(w, 1)}\" height=\"{barHeight}\" fill=\"#3b7dd8\"/>\n");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + Math.Max(w, 1) + 6}\" y=\"{y + 16}\">{WebUtility.HtmlEncode(text)}</text>\n");
        }
        return sb.Append("</svg>\n").ToString();
    }
}
