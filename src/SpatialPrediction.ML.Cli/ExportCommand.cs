using Microsoft.ML;

namespace SpatialPrediction.ML.Cli;

/// <summary><c>export --model model.zip [--onnx backbone.onnx] [--safetensors backbone.safetensors]</c>.</summary>
internal static class ExportCommand
{
    public const string Help = """
        spatial-prediction export --model <model.zip> [--onnx <backbone.onnx>] [--safetensors <backbone.safetensors>]

        Writes the model's backbone as ONNX (opset 17, input "Pixels" [batch, 3, S, S] RGB 0–255, output "Features") for
        ONNX Runtime and other engines, and/or as safetensors (weights by name) for PyTorch.
        """;

    public static int Run(IReadOnlyList<string> args, TextWriter output)
    {
        var arguments = CommandArguments.Parse("export", args, new HashSet<string> { "model", "onnx", "safetensors" }, new HashSet<string>());
        string modelPath = arguments.Required("model");
        string? onnx = arguments.Text("onnx"), safetensors = arguments.Text("safetensors");
        if (onnx is null && safetensors is null) throw new UsageException("'export' needs --onnx and/or --safetensors.");
        var featurizer = ModelFile.Featurizer(ModelFile.Load(new MLContext(1), modelPath), modelPath);
        try
        {
            if (onnx is not null)
            {
                featurizer.Backbone.ExportOnnx(onnx);
                output.WriteLine($"Wrote {onnx} ({featurizer.Backbone.Kind}, {featurizer.Backbone.ImageSize} px in, {featurizer.Backbone.FeatureDimension} features out).");
            }
            if (safetensors is not null)
            {
                featurizer.Backbone.ExportSafetensors(safetensors);
                output.WriteLine($"Wrote {safetensors}.");
            }
            return CliApp.Done;
        }
        finally
        {
            featurizer.Backbone.Dispose();
        }
    }
}
