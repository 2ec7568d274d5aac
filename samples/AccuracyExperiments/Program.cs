// Experiment runner: trains each configured featuriser on each configured dataset for each seed, runs the
// evaluations that dataset supports, and writes a Markdown report (with the config that produced it) and PNG charts.
// Usage:
//   dotnet run -c Release --project samples/AccuracyExperiments -- [--config samples/AccuracyExperiments/configs/scenes.json]
//       [--seeds N] [--train N] [--test N] [--epochs N] [--data DIR] [--out artifacts/spatial-benchmarks] [--resume]
//   With --resume, a stopped run continues in its --out folder: the featurisers and seeds it finished are read back from
//   values.json (the config must be the same, but for featurisers and datasets added at the end of their lists), and a
//   training that was stopped resumes from its checkpoint.
//   dotnet run -c Release --project samples/AccuracyExperiments -- --replot DIR [--minutes M]   (report and charts again)
using System.Diagnostics;
using System.Globalization;
using AccuracyExperiments;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (ArgText("--replot", null) is { } finished)
{
    // Writes the report and charts of a finished run again from its config.json and values.json (nothing is trained).
    var saved = ExperimentConfig.Load(Path.Combine(finished, "config.json"));
    var minutes = ArgText("--minutes", null) is { } m ? double.Parse(m, CultureInfo.InvariantCulture) : 0;
    ExperimentResults.ReadValues(Path.Combine(finished, "values.json")).WriteReport(finished, saved, TimeSpan.FromMinutes(minutes));
    Console.WriteLine($"Report and charts written again in {Path.GetFullPath(finished)}.");
    return 0;
}
var config = ArgText("--config", null) is { } configPath ? ExperimentConfig.Load(configPath) : new ExperimentConfig();
config = config with
{
    Seeds = Arg("--seeds", config.Seeds),
    TrainImages = Arg("--train", config.TrainImages),
    TestImages = Arg("--test", config.TestImages),
    Epochs = Arg("--epochs", config.Epochs),
    DataFolder = ArgText("--data", config.DataFolder),
};
string output = ArgText("--out", null) ?? Path.Combine("artifacts", "spatial-benchmarks");
Directory.CreateDirectory(output);
var clock = Stopwatch.StartNew();

var results = new ExperimentResults();
string savedValues = Path.Combine(output, "values.json"), savedConfig = Path.Combine(output, "config.json");
if (args.Contains("--resume") && File.Exists(savedValues))
{
    if (!File.Exists(savedConfig) || !config.Continues(ExperimentConfig.Load(savedConfig)))
    {
        Console.Error.WriteLine($"--resume: {Path.GetFullPath(savedConfig)} is not this run's configuration; use another --out folder, or the same " +
                                "config and options (featurisers and datasets may be added at the end of their lists).");
        return 2;
    }
    results = ExperimentResults.ReadValues(savedValues);
    Console.WriteLine($"Resuming in {Path.GetFullPath(output)}.");
}
else if (File.Exists(savedValues) && !args.Contains("--resume"))
    Console.WriteLine($"{Path.GetFullPath(savedValues)} exists and will be replaced (pass --resume to continue that run instead).");
string checkpoints = Path.Combine(output, "checkpoints");
if (!args.Contains("--resume") && Directory.Exists(checkpoints)) Directory.Delete(checkpoints, recursive: true); // a fresh run starts fresh
for (int seed = 1; seed <= config.Seeds; seed++)
{
    foreach (var dataset in config.Datasets)
    {
        using var run = DatasetRun.Create(dataset, config, seed);
        foreach (var featurizer in config.Featurizers)
        {
            var metrics = results.For(dataset, featurizer.Name);
            if (metrics.SeedsMeasured >= seed) continue; // finished before a --resume
            if (seed > 1 && featurizer.IsDeterministic(config))
            {
                // Nothing in it depends on the seed: the first seed's values stand for every seed.
                metrics.RepeatFirstSeed();
                continue;
            }
            Console.WriteLine($"[{clock.Elapsed:mm\\:ss}] seed {seed}, {dataset}: {featurizer.Name}");
            // Checkpoints let a stopped training resume; they are deleted once its evaluations are recorded.
            string checkpoint = Path.Combine(checkpoints, $"{dataset}-seed{seed}-{string.Concat(featurizer.Name.Select(c => char.IsLetterOrDigit(c) ? c : '-'))}");
            run.Evaluate(featurizer, metrics, checkpoint);
            // Written after every featuriser, so a long run that is stopped keeps what it measured.
            results.WriteReport(output, config, clock.Elapsed);
            if (Directory.Exists(checkpoint)) Directory.Delete(checkpoint, recursive: true);
        }
    }
}

results.WriteReport(output, config, clock.Elapsed);
Console.WriteLine($"Report written to {Path.GetFullPath(output)} in {clock.Elapsed.TotalMinutes:F1} min.");
return 0;

int Arg(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

string? ArgText(string name, string? fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}
