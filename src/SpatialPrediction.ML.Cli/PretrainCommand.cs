using Microsoft.ML;
using SpatialPrediction.ML.Training;
using SpatialPrediction.ML.Reporting;

namespace SpatialPrediction.ML.Cli;

/// <summary><c>pretrain --data DIR|CSV --out model.zip [every SpatialPretrainOptions option] [--resume]</c>.</summary>
internal static class PretrainCommand
{
    private static readonly HashSet<string> NotOnTheCommandLine = new(StringComparer.Ordinal)
    {
        nameof(SpatialPretrainOptions.InputColumnName), nameof(SpatialPretrainOptions.OutputColumnName), nameof(SpatialPretrainOptions.PixelHeight),
        nameof(SpatialPretrainOptions.PixelWidth), nameof(SpatialPretrainOptions.CheckpointDirectory),
    };

    private static Dictionary<string, System.Reflection.PropertyInfo> Options() => OptionBinder.Options(typeof(SpatialPretrainOptions), "", NotOnTheCommandLine);
    private static Dictionary<string, System.Reflection.PropertyInfo> SpatialOptions() => OptionBinder.Options(typeof(SpatialPredictionOptions), "sp-", new HashSet<string>());

    public static string Help() => string.Join(Environment.NewLine, new[]
    {
        "spatial-prediction pretrain --data <folder|file.csv> --out <model.zip> [options]",
        "",
        "Trains a featuriser with Spatial Prediction on the images (labels are not used) and saves it as an ML.NET model zip.",
        "Checkpoints go to <model.zip>.checkpoints/; Ctrl+C stops after the current step, and --resume continues from there.",
        "",
        "  --data <folder|file.csv>       images: one sub-folder per class, or a CSV of path,label",
        "  --out <model.zip>              where the model is written",
        "  --resume                       continue the run whose checkpoint is in <model.zip>.checkpoints/",
        "  --imagenet                     start from ML.NET's ImageNet ResNet-18 (Microsoft.ML.DnnImageFeaturizer.ResNet18)",
        "",
        "Options of SpatialPretrainOptions:",
    }.Concat(OptionBinder.Describe(new SpatialPretrainOptions(), Options()))
     .Append("")
     .Append("Options of SpatialPredictionOptions (prefix sp-):")
     .Concat(OptionBinder.Describe(new SpatialPredictionOptions(), SpatialOptions())));

    public static int Run(IReadOnlyList<string> args, TextWriter output, CancellationToken cancellation)
    {
        var options = Options();
        var spatial = SpatialOptions();
        var arguments = CommandArguments.Parse("pretrain", args,
            options.Keys.Concat(spatial.Keys).Concat(new[] { "data", "out" }).ToHashSet(), new HashSet<string> { "resume", "imagenet" });
        string data = arguments.Required("data"), model = arguments.Required("out");
        string checkpoints = model + ".checkpoints";
        bool hasCheckpoint = Directory.Exists(checkpoints) && Directory.EnumerateFiles(checkpoints, "*.ckpt").Any();
        if (hasCheckpoint && !arguments.Has("resume"))
            throw new UsageException($"{checkpoints} holds the checkpoint of an earlier run: pass --resume to continue it, or delete the folder to start over.");
        if (!hasCheckpoint && arguments.Has("resume"))
            throw new UsageException($"--resume: there is no checkpoint in {checkpoints}.");

        var settings = new SpatialPretrainOptions();
        OptionBinder.Bind(settings, options, arguments);
        OptionBinder.Bind(settings.SpatialPrediction, spatial, arguments);
        using var imageNet = arguments.Has("imagenet") ? SpatialBackbone.ImageNetResNet18() : null;
        settings.InitialBackbone = imageNet;
        settings.CheckpointDirectory = checkpoints;
        settings.CancellationToken = cancellation;
        var progress = new ConsoleProgressBar(ReferenceEquals(output, Console.Out) ? null : output);
        settings.Progress = progress;

        var mlContext = new MLContext(settings.Seed);
        var dataset = ImageSource.Open(data);
        output.WriteLine($"{dataset.Entries.Count} images in {dataset.ClassNames.Count} classes from {data}; {settings.Framework} + SP ({(settings.SpatialPrediction.Enabled ? "on" : "off")}), {settings.Backbone}, {settings.Epochs} epochs.");
        var view = dataset.ToDataView(mlContext);
        var featurizer = mlContext.Transforms.SpatialPretrain(settings).Fit(view);
        progress.Finish();
        try
        {
            mlContext.Model.Save(featurizer, view.Schema, model);
            var history = featurizer.TrainingHistory!;
            if (history.SkippedRows.Count > 0)
                output.WriteLine($"Skipped {history.SkippedRows.Count} unreadable image(s): {string.Join("; ", history.SkippedRows.Take(5))}{(history.SkippedRows.Count > 5 ? "; ..." : "")}");
            output.WriteLine($"Saved {model}: {featurizer.Backbone.Kind}, {featurizer.Backbone.FeatureDimension} features, {history.Steps.Count} steps in {history.Elapsed.TotalSeconds:F0} s.");
            return CliApp.Done;
        }
        finally
        {
            featurizer.Backbone.Dispose();
        }
    }
}
