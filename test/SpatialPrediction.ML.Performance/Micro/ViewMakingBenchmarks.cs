using BenchmarkDotNet.Attributes;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Views;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Performance.Micro;

/// <summary>The per-step CPU work before the model: SimCLR's two augmented crops and SP's pair of local views, batch 64.</summary>
[InProcess, MemoryDiagnoser]
public class ViewMakingBenchmarks
{
    private Tensor images = null!;
    private SimClrObjective host = null!;
    private SpatialPredictionPlugin plugin = null!;
    private readonly Random random = new(1);

    [Params(64, 96)]
    public int ImageSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        images = rand(64, 3, ImageSize, ImageSize);
        host = new SimClrObjective(512, ImageSize);
        plugin = new SpatialPredictionPlugin(512, new SpatialPredictionSettings());
    }

    [Benchmark]
    public void SimClrViews()
    {
        using var scope = NewDisposeScope();
        using var pictures = PictureBatch.Of(images);
        host.MakeViews(pictures, random, CPU);
    }

    [Benchmark]
    public void SpatialPredictionViews()
    {
        using var scope = NewDisposeScope();
        using var pictures = PictureBatch.Of(images);
        plugin.MakeViews(pictures, random, CPU);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        images.Dispose();
        host.Dispose();
        plugin.Dispose();
    }
}
