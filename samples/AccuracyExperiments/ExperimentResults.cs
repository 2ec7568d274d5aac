using SpatialPrediction.ML.Evaluation;
using System.Text;
using SpatialPrediction.ML.Reporting;

namespace AccuracyExperiments;

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
            var pairs = Pairs(names, config.Baseline).ToList();
            report.AppendLine("| metric | " + string.Join(" | ", names) + " |" + string.Concat(pairs.Select(p => $" Δ {p.With} − {p.Without} |")));
            report.AppendLine("|---|" + string.Concat(names.Select(_ => "---|")) + string.Concat(pairs.Select(_ => "---|")));
            var metricNames = names.SelectMany(n => featurizers[n].Names).Distinct().ToList();
            foreach (var metric in metricNames)
            {
                report.Append($"| {metric} | " + string.Join(" | ", names.Select(n => featurizers[n].Cell(metric))) + " |");
                foreach (var (with, without) in pairs)
                    report.Append($" {MetricSet.DifferenceCell(featurizers[with], featurizers[without], metric)} |");
                report.AppendLine();
            }
            report.AppendLine();
            string[] chartMetrics = featurizers[names[0]].Names.Where(m => ChartMetrics.Contains(m)).ToArray();
            if (chartMetrics.Length > 0)
            {
                string chart = $"{dataset}-probes.png";
                ResultCharts.Bars(Path.Combine(folder, chart), $"{dataset}: frozen-feature evaluations (higher is better; whiskers ± std over seeds)", chartMetrics,
                    names.Select(n => (n, chartMetrics.Select(m => featurizers[n].Mean(m)).ToArray(),
                        (double[]?)chartMetrics.Select(m => featurizers[n].Std(m)).ToArray())).ToList());
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
        WriteValues(Path.Combine(folder, "values.json"));
    }

    private static readonly HashSet<string> ChartMetrics = new()
    {
        "linear probe", "k-NN top-1", "fine-grained linear probe", "style shift (twitter)", "style shift (openmoji)", "patch-pair mean R²",
        "patch-pair mean R² (held-out sampler)",
        "photos patch-pair mean R²", "jigsaw 2×2 tile acc.", "segmentation mIoU", "depth δ<1.25",
    };

    /// <summary>
    /// Every featuriser against the baseline when one is named; otherwise (host + SP, host) pairs by the " + SP" naming
    /// convention: "DINO + SP 30 ep" against "DINO 30 ep", else against what precedes " + SP" ("SimCLR + SP on host
    /// views" against "SimCLR").
    /// </summary>
    private static IEnumerable<(string With, string Without)> Pairs(IReadOnlyList<string> names, string? baseline)
    {
        if (baseline is not null && names.Contains(baseline)) return names.Where(n => n != baseline).Select(n => (n, baseline));
        string? Host(string name)
        {
            int at = name.IndexOf(" + SP", StringComparison.Ordinal);
            if (at < 0) return null;
            string without = name.Remove(at, " + SP".Length);
            return names.Contains(without) ? without : names.Contains(name[..at]) ? name[..at] : null;
        }
        return names.Where(n => Host(n) is not null).Select(n => (n, Host(n)!));
    }

    /// <summary>Reads the values a finished run wrote, to write its report and charts again.</summary>
    public static ExperimentResults ReadValues(string path)
    {
        var saved = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, Dictionary<string, List<double>>>>>(File.ReadAllText(path))
                    ?? throw new InvalidDataException($"{path}: no values.");
        var results = new ExperimentResults();
        foreach (var (dataset, featurizers) in saved)
        {
            results.byDataset[dataset] = new();
            foreach (var (featurizer, metrics) in featurizers) results.byDataset[dataset][featurizer] = MetricSet.From(metrics);
        }
        return results;
    }

    /// <summary>Every value by dataset, featuriser, metric and seed, for tables built across runs.</summary>
    public void WriteValues(string path)
    {
        var values = byDataset.ToDictionary(d => d.Key, d => d.Value.ToDictionary(f => f.Key, f => f.Value.Names.ToDictionary(m => m, m => f.Value.Values(m))));
        File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(values, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }
}

/// <summary>The values of each metric for one dataset and featuriser, in the order they were first reported.</summary>
internal sealed class MetricSet
{
    private readonly Dictionary<string, List<double>> values = new();
    private readonly List<string> order = new();

    public IReadOnlyList<string> Names => order;

    /// <summary>Appended to the name of every metric added while set: one featuriser evaluated two ways in one row.</summary>
    public string NameSuffix { get; set; } = "";

    public void Add(string metric, double value)
    {
        metric += NameSuffix;
        if (!values.TryGetValue(metric, out var list))
        {
            values[metric] = list = new List<double>();
            order.Add(metric);
        }
        list.Add(value);
    }

    /// <summary>How many seeds have been recorded: the values of the first metric (every evaluation adds one per seed).</summary>
    public int SeedsMeasured => order.Count == 0 ? 0 : values[order[0]].Count;

    public double Mean(string metric) => values.TryGetValue(metric, out var list) ? list.Average() : double.NaN;

    /// <summary>Sample standard deviation over seeds; 0 for a single value.</summary>
    public double Std(string metric) => values.TryGetValue(metric, out var list) ? StandardDeviation(list) : 0;

    private static double StandardDeviation(IReadOnlyList<double> list)
    {
        if (list.Count < 2) return 0;
        double mean = list.Average();
        return Math.Sqrt(list.Sum(v => (v - mean) * (v - mean)) / (list.Count - 1));
    }

    /// <summary>Rebuilds a set from values saved by <see cref="ExperimentResults.WriteValues"/>.</summary>
    public static MetricSet From(IReadOnlyDictionary<string, List<double>> saved)
    {
        var set = new MetricSet();
        foreach (var (metric, list) in saved)
            foreach (double v in list) set.Add(metric, v);
        return set;
    }

    /// <summary>Adds each metric's first value again (a featuriser that does not depend on the seed).</summary>
    public void RepeatFirstSeed()
    {
        foreach (var list in values.Values) list.Add(list[0]);
    }

    public IReadOnlyList<double> Values(string metric) => values.TryGetValue(metric, out var list) ? list : Array.Empty<double>();

    /// <summary>Mean ± std over seeds of the per-seed difference <paramref name="with"/> − <paramref name="without"/>.</summary>
    public static string DifferenceCell(MetricSet with, MetricSet without, string metric)
    {
        var a = with.Values(metric);
        var b = without.Values(metric);
        int n = Math.Min(a.Count, b.Count);
        if (n == 0) return "–";
        var d = Enumerable.Range(0, n).Select(i => a[i] - b[i]).ToList();
        // Rounded first: a mean that rounds to zero from below would print "-+0.000" with a two-section format.
        double mean = Math.Round(d.Average(), 3) + 0.0;
        return n == 1 ? $"{mean:+0.000;-0.000}" : $"{mean:+0.000;-0.000} ± {StandardDeviation(d):0.000}";
    }

    public string Cell(string metric)
    {
        if (!values.TryGetValue(metric, out var list)) return "–";
        return list.Count == 1 ? $"{list[0]:F3}" : $"{list.Average():F3} ± {StandardDeviation(list):F3}";
    }
}
