using Microsoft.ML;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.MLNet;

namespace SpatialPrediction.ML.Performance;

/// <summary>
/// What every featurisation timing starts from: in-memory 224 px scenes, the ImageNet ResNet-18 and its ONNX export
/// (input "Pixels", output "Features") in <c>folder</c>, or in a temporary folder deleted on disposal.
/// </summary>
internal sealed class FeaturizationWorkload : IDisposable
{
    private readonly string? temporaryFolder;

    public FeaturizationWorkload(int images, string? folder = null)
    {
        if (folder is null) folder = temporaryFolder = Directory.CreateTempSubdirectory("featurization-").FullName;
        Data = SpatialScenes.GenerateDataView(MLContext, images, new SpatialScenesOptions { ImageSize = 224, Seed = 7 });
        OnnxPath = Path.Combine(folder, "imagenet-resnet18.onnx");
        Backbone.ExportOnnx(OnnxPath, "Pixels", "Features");
    }

    public MLContext MLContext { get; } = new(1);
    public IDataView Data { get; }
    public SpatialBackbone Backbone { get; } = SpatialBackbone.ImageNetResNet18();
    public string OnnxPath { get; }

    public void Dispose()
    {
        Backbone.Dispose();
        if (temporaryFolder is not null) Directory.Delete(temporaryFolder, recursive: true);
    }
}
