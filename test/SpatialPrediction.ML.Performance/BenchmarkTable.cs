using System.Globalization;
using System.Text;

namespace SpatialPrediction.ML.Performance;

/// <summary>One measured line of the report: our value, optionally a peer's from the same run, and the target it is held to.</summary>
/// <param name="Area">Training, featurisation, data pipeline, memory or ceiling.</param>
/// <param name="Measure">What was measured, with its configuration.</param>
/// <param name="Ours">Our value (unit in <paramref name="Unit"/>).</param>
/// <param name="Unit">img/s, ms, MB, GFLOP/s, % …</param>
/// <param name="Peer">Name of the peer measured next to it, or null.</param>
/// <param name="PeerValue">The peer's value, or null when it was not measured (then <paramref name="Note"/> says why).</param>
/// <param name="Target">The target as a ratio ours/peer (≥) or, without a peer, a bound on <paramref name="Ours"/>.</param>
/// <param name="Note">Anything a reader needs to interpret the line.</param>
internal sealed record BenchmarkRow(string Area, string Measure, double Ours, string Unit, string? Peer = null, double? PeerValue = null,
    BenchmarkTarget? Target = null, string Note = "")
{
    public double? Ratio => PeerValue is > 0 ? Ours / PeerValue : null;

    /// <summary>Whether the target is met; null when there is no target or nothing to compare with.</summary>
    public bool? Met => Target switch
    {
        null => null,
        { Kind: TargetKind.RatioAtLeast } t => Ratio is double r ? r >= t.Value : null,
        { Kind: TargetKind.AtMost } t => Ours <= t.Value,
        { Kind: TargetKind.AtLeast } t => Ours >= t.Value,
        _ => null,
    };
}

internal enum TargetKind { RatioAtLeast, AtMost, AtLeast }

internal sealed record BenchmarkTarget(TargetKind Kind, double Value)
{
    public static BenchmarkTarget RatioAtLeast(double value) => new(TargetKind.RatioAtLeast, value);
    public static BenchmarkTarget AtMost(double value) => new(TargetKind.AtMost, value);
    public static BenchmarkTarget AtLeast(double value) => new(TargetKind.AtLeast, value);

    public override string ToString() => Kind switch
    {
        TargetKind.RatioAtLeast => $"≥ {Value:0.0#}×",
        TargetKind.AtMost => $"≤ {Value:0.##}",
        _ => $"≥ {Value:0.##}",
    };
}

/// <summary>Collects rows as they are measured (printing each at once, so a long run shows progress) and renders the table.</summary>
internal sealed class BenchmarkTable
{
    private readonly List<BenchmarkRow> rows = new();

    public IReadOnlyList<BenchmarkRow> Rows => rows;

    public BenchmarkRow Add(BenchmarkRow row)
    {
        rows.Add(row);
        Console.WriteLine($"  measured: {Render(row)}");
        return row;
    }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine("| area | measurement | ours | peer | peer value | ours / peer | target | met | note |");
        text.AppendLine("|---|---|---:|---|---:|---:|---|---|---|");
        foreach (var row in rows) text.AppendLine(Render(row));
        return text.ToString();
    }

    private static string Render(BenchmarkRow row)
    {
        // A percentage near zero reads as 0.00 %, not in exponent form: only its distance from the target matters.
        string Number(double v) => v.ToString(Math.Abs(v) >= 100 ? "F0" : Math.Abs(v) >= 10 ? "F1" : Math.Abs(v) >= 0.01 || v == 0 || row.Unit == "%" ? "F2" : "E1",
            CultureInfo.InvariantCulture);
        string met = row.Met switch { true => "yes", false => "**no**", null => "" };
        return $"| {row.Area} | {row.Measure} | {Number(row.Ours)} {row.Unit} | {row.Peer ?? ""} | " +
               $"{(row.PeerValue is double p ? $"{Number(p)} {row.Unit}" : row.Peer is null ? "" : "not run")} | " +
               $"{(row.Ratio is double r ? $"{r:F2}×" : "")} | {row.Target?.ToString() ?? ""} | {met} | {row.Note} |";
    }
}
