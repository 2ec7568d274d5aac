namespace SpatialPrediction.ML.Backbones;

/// <summary>
/// How a ResNet runs its convolutions on the CPU, as the layout calibration chooses it: the memory layout, and whether
/// 3×3 convolutions on maps of a few pixels run as one matrix product (<see cref="SmallMapConvolution"/>, channels-last only).
/// </summary>
internal readonly record struct ConvolutionPlan(ConvolutionLayout Layout, bool SmallMapsAsMatrices = false)
{
    public override string ToString() => SmallMapsAsMatrices ? $"{Layout} with small maps as matrices" : Layout.ToString();
}
