using BenchmarkDotNet.Attributes;
using SpatialPrediction.ML.Backbones;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Performance.Micro;

/// <summary>
/// One featurisation batch of ResNet-18 at 224 px (batch 8) through <c>SpatialBackbone</c>, with and without the
/// batch-norm folding of the inference copy: the model alone, without ML.NET's row handling.
/// </summary>
[InProcess]
public class FeaturizerForwardBenchmarks
{
    private SpatialBackbone backbone = null!;
    private Tensor batch = null!;

    [Params(false, true)]
    public bool FoldBatchNorm { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.ResNet18, ImageSize: 224));
        backbone.Featurization.FoldBatchNormForInference = FoldBatchNorm;
        batch = rand(8, 3, 224, 224);
    }

    [Benchmark]
    public float[] ResNet18Batch8() => backbone.Featurization.FeaturizeBatch(batch);

    [GlobalCleanup]
    public void Cleanup()
    {
        backbone.Dispose();
        batch.Dispose();
    }
}
