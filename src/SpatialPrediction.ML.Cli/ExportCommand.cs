using System.CommandLine;
using Microsoft.ML;

namespace SpatialPrediction.ML.Cli;

/// <summary><c>export --model model.zip [--onnx backbone.onnx] [--safetensors backbone.safetensors [--naming TorchvisionResNet]]</c>.</summary>
internal static class ExportCommand
{
    public static Command Create(TextWriter output)
    {
        var command = new Command("export",
            "Writes the model's backbone as ONNX (opset 17, input \"Pixels\" [batch, 3, S, S] RGB 0–255, output \"Features\") for " +
            "ONNX Runtime and other engines, and/or as safetensors (weights by name) for PyTorch.");
        var model = CliApp.Required(command, "model", "model.zip", "An ML.NET model zip holding a SpatialPrediction featuriser.");
        var onnxOption = new Option<string>("--onnx") { HelpName = "backbone.onnx", Description = "Write the backbone as ONNX here." };
        var safetensorsOption = new Option<string>("--safetensors") { HelpName = "backbone.safetensors", Description = "Write the backbone's weights as safetensors here." };
        var namingOption = new Option<Interop.WeightNaming>("--naming")
        {
            Description = "Tensor names in the safetensors file: Native (this library's) or TorchvisionResNet (TorchVision's, for ResNet-18/50).",
            DefaultValueFactory = _ => Interop.WeightNaming.Native,
        };
        command.Options.Add(onnxOption);
        command.Options.Add(safetensorsOption);
        command.Options.Add(namingOption);
        command.SetAction(result => Run(output, result.GetValue(model)!, result.GetValue(onnxOption), result.GetValue(safetensorsOption), result.GetValue(namingOption)));
        return command;
    }

    private static int Run(TextWriter output, string modelPath, string? onnx, string? safetensors, Interop.WeightNaming naming)
    {
        if (onnx is null && safetensors is null) throw new UsageException("'export' needs --onnx and/or --safetensors.");
        var featurizer = ModelFile.Featurizer(ModelFile.Load(new MLContext(1), modelPath), modelPath);
        try
        {
            if (onnx is not null)
            {
                featurizer.Backbone.ExportOnnx(onnx);
                output.WriteLine($"Wrote {onnx} ({featurizer.Backbone.Kind}, {featurizer.Backbone.ImageSize} px in, {featurizer.Backbone.FeatureDimension} features out).");
                if (featurizer.SpatialPyramid)
                    output.WriteLine($"Note: {modelPath} reads {featurizer.FeatureDimension} features (a spatial pyramid); the ONNX model gives the backbone's " +
                                     $"{featurizer.Backbone.FeatureDimension}, which are the first {featurizer.Backbone.FeatureDimension} of them.");
            }
            if (safetensors is not null)
            {
                featurizer.Backbone.ExportSafetensors(safetensors, naming);
                output.WriteLine($"Wrote {safetensors} ({naming} names).");
            }
            return CliApp.Done;
        }
        finally
        {
            featurizer.Backbone.Dispose();
        }
    }
}
