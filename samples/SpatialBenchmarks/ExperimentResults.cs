using SpatialPrediction.ML.Evaluation;
using System.Text;

namespace SpatialBenchmarks;

/// <summary>Metric values per dataset, featuriser and metric, one value per seed; and the report they make.</summary>
internal sealed class ExperimentResults
{
    private readonly Dictionary<string, Dictionary<string, MetricSet>> byDataset = new();

    public MetricSet For(string dataset, string featurizer)
    {
        if (!byDataset.TryGetValue(dataset, out var featurizers)) byDataset[dataset] = featurizers = new();
        if (!featurizers.TryGetValue(featurizer, out var metrics)) featurizers[featurizer] = metrics = new MetricSet();
        return metrics;
    }

    public void WriteReport(string folder, ExperimentConfig config, TimeSpan elapsed)
    {
        var report = new StringBuilder();
        report.AppendLine("# SpatialPrediction.ML experiment report");
        report.AppendLine();
        string backbone = config.InitialBackbone is { } initial ? $"{initial} weights as the start"
            : config.Backbone == SpatialPrediction.ML.Backbones.BackboneKind.SmallResNet ? $"small ResNet (width {config.BackboneWidth})" : config.Backbone.ToString();
        report.AppendLine($"{config.Seeds} seed(s) (1–{config.Seeds}: data order, initialisation, training); {backbone}, " +
                          $"{config.ImageSize} px, {config.Epochs} epochs, batch {config.BatchSize}, SP λ = {config.SpatialWeight}; " +
                          $"{Environment.ProcessorCount} CPU cores; {elapsed.TotalMinutes:F1} min. " +
                          (config.Seeds > 1 ? "Cells are mean ± standard deviation over seeds." : "One seed: single values, no spread."));
        report.AppendLine();
        foreach (var (dataset, featurizers) in byDataset)
        {
            var names = config.Featurizers.Select(f => f.Name).Where(featurizers.ContainsKey).ToList();
            report.AppendLine($"## {dataset}");
            report.AppendLine();
            report.AppendLine("| metric | " + string.Join(" | ", names) + " |" + string.Concat(Pairs(names).Select(p => $" Δ {p.With} − {p.Without} |")));
            report.AppendLine("|---|" + string.Concat(names.Select(_ => "---|")) + string.Concat(Pairs(names).Select(_ => "---|")));
            foreach (var metric in featurizers[names[0]].Names)
            {
                report.Append($"| {metric} | " + string.Join(" | ", names.Select(n => featurizers[n].Cell(metric))) + " |");
                foreach (var (with, without) in Pairs(names))
                    report.Append($" {featurizers[with].Mean(metric) - featurizers[without].Mean(metric):+0.000;-0.000} |");
                report.AppendLine();
            }
            report.AppendLine();
            string[] chartMetrics = featurizers[names[0]].Names.Where(m => ChartMetrics.Contains(m)).ToArray();
            if (chartMetrics.Length > 0)
            {
                string chart = $"{dataset}-probes.png";
                ResultCharts.Bars(Path.Combine(folder, chart), $"{dataset}: frozen-feature evaluations (higher is better)", chartMetrics,
                    names.Select(n => (n, chartMetrics.Select(m => featurizers[n].Mean(m)).ToArray())).ToList());
                report.AppendLine($"![{dataset} probes]({chart})");
                report.AppendLine();
            }
            if (featurizers[names[0]].Names.Contains("clean accuracy"))
            {
                string chart = $"{dataset}-corruptions.png";
                ResultCharts.Lines(Path.Combine(folder, chart), $"{dataset}: linear-probe accuracy under corruption", "severity",
                    names.Select(n => (n, new[] { featurizers[n].Mean("clean accuracy") }
                        .Concat(Enumerable.Range(1, 5).Select(s => featurizers[n].Mean($"corruption severity {s}"))).ToArray())).ToList());
                report.AppendLine($"![{dataset} corruptions]({chart})");
                report.AppendLine();
            }
        }
        report.AppendLine("Lower is better for depth RMSE and AbsRel; higher for everything else.");
        report.AppendLine();
        report.AppendLine("Configuration:");
        report.AppendLine();
        report.AppendLine("```json");
        report.AppendLine(config.ToJson());
        report.AppendLine("```");
        File.WriteAllText(Path.Combine(folder, "report.md"), report.ToString());
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJson());
    }

    private static readonly HashSet<string> ChartMetrics = new()
    {
        "linear probe", "k-NN top-1", "fine-grained linear probe", "style shift (twitter)", "patch-pair mean R²",
        "photos patch-pair mean R²", "jigsaw 2×2 tile acc.", "segmentation mIoU", "depth δ<1.25",
    };

    /// <summary>(host + SP, host) pairs present among the featurisers, by the " + SP" naming convention.</summary>
    private static IEnumerable<(string With, string Without)> Pairs(IReadOnlyList<string> names)
        => names.Where(n => n.EndsWith(" + SP", StringComparison.Ordinal) && names.Contains(n[..^5])).Select(n => (n, n[..^5]));
}

/// <summary>The values of each metric for one dataset and featuriser, in the order they were first reported.</summary>
internal sealed class MetricSet
{
    private readonly Dictionary<string, List<double>> values = new();
    private readonly List<string> order = new();

    public IReadOnlyList<string> Names => order;

    public void Add(string metric, double value)
    {
        if (!values.TryGetValue(metric, out var list))
        {
            values[metric] = list = new List<double>();
            order.Add(metric);
        }
        list.Add(value);
    }

    public double Mean(string metric) => values.TryGetValue(metric, out var list) ? list.Average() : double.NaN;

    public string Cell(string metric)
    {
        if (!values.TryGetValue(metric, out var list)) return "–";
        if (list.Count == 1) return $"{list[0]:F3}";
        double mean = list.Average();
        double std = Math.Sqrt(list.Sum(v => (v - mean) * (v - mean)) / (list.Count - 1));
        return $"{mean:F3} ± {std:F3}";
    }
}
