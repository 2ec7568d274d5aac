using SpatialPrediction.ML.Objectives;

namespace SpatialPrediction.ML.Performance;

/// <summary>One training configuration measured on our engine and on the PyTorch peer alike.</summary>
internal sealed record TrainingWorkload(SslFramework Framework, bool SpatialPrediction, int ImageSize, int BatchSize, bool BFloat16 = false)
{
    public string Name => $"{(Framework == SslFramework.Dino ? "DINO" : "SimCLR")}{(SpatialPrediction ? " + SP" : "")}{(BFloat16 ? ", bfloat16" : "")}";

    /// <summary>
    /// Counted FLOPs of one training step per image: three forward costs for every view the student sees (SimCLR: two
    /// at full size; DINO: two global and four local at half size), one forward cost for DINO's teacher on the globals,
    /// and for SP two local views at 32 px.
    /// </summary>
    public double FlopsPerImage()
    {
        double full = ResNetFlops.ForwardFlops(ImageSize), half = ResNetFlops.ForwardFlops(ImageSize / 2);
        double flops = Framework == SslFramework.Dino ? 3 * (2 * full + 4 * half) + 2 * full : 3 * 2 * full;
        if (SpatialPrediction) flops += 3 * 2 * ResNetFlops.ForwardFlops(32);
        return flops;
    }
}
