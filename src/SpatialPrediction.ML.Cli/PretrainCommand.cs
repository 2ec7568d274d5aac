using System.CommandLine;
using Microsoft.ML;
using SpatialPrediction.ML.Reporting;

namespace SpatialPrediction.ML.Cli;

/// <summary><c>pretrain --data DIR|CSV --out model.zip [every SpatialPretrainOptions option] [--resume] [--imagenet [--if-better]]</c>.</summary>
internal static class PretrainCommand
{
    private static readonly HashSet<string> NotOnTheCommandLine = new(StringComparer.Ordinal)
    {
        nameof(SpatialPretrainOptions.InputColumnName), nameof(SpatialPretrainOptions.OutputColumnName), nameof(SpatialPretrainOptions.PixelHeight),
        nameof(SpatialPretrainOptions.PixelWidth), nameof(SpatialPretrainOptions.CheckpointDirectory),
    };

    public static Command Create(TextWriter output, CancellationToken cancellation)
    {
        var command = new Command("pretrain",
            "Trains a featuriser with Spatial Prediction on the images (labels are not used) and saves it as an ML.NET model zip. " +
            "Checkpoints go to <model.zip>.checkpoints/; Ctrl+C stops after the current step, and --resume continues from there.");
        var data = CliApp.Required(command, "data", "folder|file.csv", "Images: one sub-folder per class, or a CSV of path,label.");
        var model = CliApp.Required(command, "out", "model.zip", "Where the model is written.");
        var resume = new Option<bool>("--resume") { Description = "Continue the run whose checkpoint is in <model.zip>.checkpoints/." };
        var imageNet = new Option<bool>("--imagenet") { Description = "Start from ML.NET's ImageNet ResNet-18 (Microsoft.ML.DnnImageFeaturizer.ResNet18)." };
        var ifBetter = new Option<bool>("--if-better")
        {
            Description = "With --imagenet: score the adapted and the frozen ImageNet features with a 5-fold cross-validated linear probe " +
                          "on the labels and save the better one (the frozen one on a tie).",
        };
        command.Options.Add(resume);
        command.Options.Add(imageNet);
        command.Options.Add(ifBetter);
        var options = new OptionBinder(new SpatialPretrainOptions(), "", NotOnTheCommandLine,
            nameof(SpatialPretrainOptions.Optimizer), nameof(SpatialPretrainOptions.Dino), nameof(SpatialPretrainOptions.Runtime));
        var spatial = new OptionBinder(new SpatialPredictionOptions(), "sp-", new HashSet<string>(), nameof(SpatialPredictionOptions.ViewPairs));
        foreach (var option in options.Options.Concat(spatial.Options)) command.Options.Add(option);
        command.SetAction(result => Run(result, output, cancellation, result.GetValue(data)!, result.GetValue(model)!,
            result.GetValue(resume), result.GetValue(imageNet), result.GetValue(ifBetter), options, spatial));
        return command;
    }

    private static int Run(ParseResult result, TextWriter output, CancellationToken cancellation, string data, string model, bool resume, bool startFromImageNet,
        bool ifBetter, OptionBinder options, OptionBinder spatial)
    {
        if (ifBetter && !startFromImageNet)
            throw new UsageException("--if-better compares adapting the ImageNet ResNet-18 with keeping it frozen: add --imagenet.");
        string checkpoints = model + ".checkpoints";
        bool hasCheckpoint = Directory.Exists(checkpoints) && Directory.EnumerateFiles(checkpoints, "*.ckpt").Any();
        if (hasCheckpoint && !resume)
            throw new UsageException($"{checkpoints} holds the checkpoint of an earlier run: pass --resume to continue it, or delete the folder to start over.");
        if (!hasCheckpoint && resume)
            throw new UsageException($"--resume: there is no checkpoint in {checkpoints}.");

        var settings = new SpatialPretrainOptions();
        options.Bind(settings, result);
        spatial.Bind(settings.SpatialPrediction, result);
        using var imageNet = startFromImageNet ? SpatialBackbone.ImageNetResNet18() : null;
        settings.InitialBackbone = imageNet;
        settings.CheckpointDirectory = checkpoints;
        settings.CancellationToken = cancellation;

        var mlContext = new MLContext(settings.Seed);
        var dataset = ImageSource.Open(data);
        output.WriteLine($"{dataset.Entries.Count} images in {dataset.ClassNames.Count} classes from {data}; {settings.Framework} + SP ({(settings.SpatialPrediction.Enabled ? "on" : "off")}), {settings.Backbone}, {settings.Epochs} epochs.");
        var view = dataset.ToDataView(mlContext);
        SpatialFeaturizerTransformer featurizer;
        AdaptationChoice? choice = null;
        using (var progress = new ConsoleProgressBar(ReferenceEquals(output, Console.Out) ? null : output))
        {
            settings.Progress = progress;
            if (ifBetter)
            {
                choice = mlContext.Transforms.AdaptIfBetter(view, settings);
                featurizer = choice.Featurizer;
            }
            else
            {
                featurizer = mlContext.Transforms.SpatialPretrain(settings).Fit(view);
            }
        }
        try
        {
            if (choice is not null) output.WriteLine($"{char.ToUpperInvariant(choice.ToString()[0])}{choice.ToString()[1..]}.");
            mlContext.Model.Save(featurizer, view.Schema, model);
            if (featurizer.TrainingHistory is not { } history)
            {
                output.WriteLine($"Saved {model}: the ImageNet {featurizer.Backbone.Kind} frozen, {featurizer.Backbone.FeatureDimension} features.");
                return CliApp.Done;
            }
            if (history.SkippedRows.Count > 0)
                output.WriteLine($"Skipped {history.SkippedRows.Count} unreadable image(s): {string.Join("; ", history.SkippedRows)}");
            output.WriteLine($"Saved {model}: {featurizer.Backbone.Kind}, {featurizer.Backbone.FeatureDimension} features, {history.Steps.Count} steps in {history.Elapsed.TotalSeconds:F0} s.");
            return CliApp.Done;
        }
        finally
        {
            // The frozen choice is the ImageNet backbone itself, disposed with it above.
            if (choice is not { Adapted: false }) featurizer.Backbone.Dispose();
        }
    }
}
