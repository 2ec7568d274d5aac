namespace SpatialPrediction.ML.Backbones;

/// <summary>How a ResNet's activations are laid out in memory on the CPU (the values are the same either way).</summary>
public enum ConvolutionLayout
{
    /// <summary>Measured on this machine the first time a shape is used (a few timed passes of each), then cached.</summary>
    Auto = 0,

    /// <summary>NCHW, libtorch's default.</summary>
    ChannelsFirst = 1,

    /// <summary>NHWC strides, which oneDNN's CPU convolutions keep from layer to layer instead of reordering.</summary>
    ChannelsLast = 2,
}
