using System.CommandLine;
using Microsoft.ML;
using SpatialPrediction.ML.Data;

namespace SpatialPrediction.ML.Cli;

/// <summary><c>import --safetensors backbone.safetensors --out model.zip</c>: weights trained elsewhere into a model zip.</summary>
internal static class ImportCommand
{
    public static Command Create(TextWriter output)
    {
        var command = new Command("import",
            "Turns backbone weights in a safetensors file (from 'export --safetensors', SpatialBackbone.ExportSafetensors or the " +
            "Python companion's torchrun training) into an ML.NET model zip that 'featurize', 'evaluate' and 'export' read. " +
            "The architecture comes from the file's metadata.");
        var weights = CliApp.Required(command, "safetensors", "backbone.safetensors", "The weights, with the architecture in the metadata (kind, image_size, width, patch_size).");
        var model = CliApp.Required(command, "out", "model.zip", "Where the model is written.");
        command.SetAction(result => Run(output, result.GetValue(weights)!, result.GetValue(model)!));
        return command;
    }

    private static int Run(TextWriter output, string weights, string model)
    {
        if (!File.Exists(weights)) throw new UsageException($"{weights}: no such file.");
        var mlContext = new MLContext(1);
        using var backbone = SpatialBackbone.FromSafetensors(weights);
        // No rows are needed: the featuriser only checks the schema, which is that of an image folder.
        var schemaOnly = new ImageDataset(Array.Empty<ImageEntry>()).ToDataView(mlContext);
        var featurizer = mlContext.Transforms.SpatialFeaturize(backbone).Fit(schemaOnly);
        mlContext.Model.Save(featurizer, schemaOnly.Schema, model);
        output.WriteLine($"Saved {model}: {backbone.Kind} from {weights}, {backbone.ImageSize} px in, {backbone.FeatureDimension} features out.");
        return CliApp.Done;
    }
}
