using Microsoft.ML;
using SpatialPrediction.ML.MLNet;

namespace SpatialPrediction.ML;

/// <summary>
/// An estimator around an already trained <see cref="SpatialBackbone"/>: <c>Fit</c> learns nothing, it checks the
/// input column and returns the featuriser. Created by <c>mlContext.Transforms.SpatialFeaturize(backbone, ...)</c>.
/// </summary>
public sealed class SpatialFeaturizeEstimator : IEstimator<SpatialFeaturizerTransformer>
{
    private readonly SpatialFeaturizeOptions options;
    private readonly TorchSharp.torch.Device device;

    internal SpatialFeaturizeEstimator(SpatialBackbone backbone, SpatialFeaturizeOptions options, TorchSharp.torch.Device device)
    {
        this.device = device;
        Backbone = backbone ?? throw new ArgumentNullException(nameof(backbone));
        this.options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
    }

    /// <summary>The backbone this estimator wraps.</summary>
    public SpatialBackbone Backbone { get; }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ImageColumn.Check(inputSchema, options.InputColumnName, "SpatialFeaturize");
        return options.FeatureMapColumnName is null
            ? SchemaShapeColumns.With(inputSchema, SchemaShapeColumns.FloatVector(options.OutputColumnName))
            : SchemaShapeColumns.With(inputSchema, SchemaShapeColumns.FloatVector(options.OutputColumnName), SchemaShapeColumns.FloatVector(options.FeatureMapColumnName));
    }

    /// <summary>Checks the input column and returns the featuriser.</summary>
    /// <remarks>
    /// The featuriser uses this estimator's <see cref="SpatialBackbone"/> itself, not a copy, when the backbone is on the
    /// device the MLContext asks for (disposing the featuriser then releases the backbone); otherwise it featurises with
    /// a copy on that device, which it owns.
    /// </remarks>
    public SpatialFeaturizerTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var backbone = Backbone.Device.type == device.type && Backbone.Device.index == device.index ? Backbone : Backbone.CopyTo(device);
        var transformer = new SpatialFeaturizerTransformer(backbone, options.InputColumnName, options.OutputColumnName,
            options.BatchSize, options.PixelHeight, options.PixelWidth, trainingHistory: null, options.FeatureMapColumnName, options.Resizing, options.Precision, options.Engine, options.SpatialPyramid);
        transformer.GetOutputSchema(input.Schema);
        return transformer;
    }
}

/// <summary>Options of <c>mlContext.Transforms.SpatialFeaturize(...)</c>.</summary>
public sealed class SpatialFeaturizeOptions
{
    /// <summary>Image column: MLImage, encoded image bytes, or ExtractPixels floats. Default "Image".</summary>
    public string InputColumnName { get; set; } = "Image";
    /// <summary>Feature column written. Default "Features".</summary>
    public string OutputColumnName { get; set; } = "Features";
    /// <summary>Optional column for the spatial feature map (channels × height × width floats) for dense probes. Default null (none).</summary>
    public string? FeatureMapColumnName { get; set; }
    /// <summary>Rows featurised per forward pass when a cursor reads in order. Default 8 (see <see cref="PretrainingRuntimeOptions.FeaturizationBatchSize"/>).</summary>
    public int BatchSize { get; set; } = 8;
    /// <summary>Height of ExtractPixels vectors; 0 (default) infers a square from the length.</summary>
    public int PixelHeight { get; set; }
    /// <summary>Width of ExtractPixels vectors; 0 (default) infers a square from the length.</summary>
    public int PixelWidth { get; set; }
    /// <summary>
    /// How a picture that is not square becomes the backbone's square, in the vocabulary of ML.NET's <c>ResizeImages</c>.
    /// Default <c>IsoCrop</c> (as <c>ResizeImages</c>): the centred square of the shorter side, so geometry is not distorted;
    /// <c>Fill</c> stretches (what featurisers did before this option), <c>IsoPad</c> pads with black.
    /// </summary>
    public Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind Resizing { get; set; } = Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind.IsoCrop;
    /// <summary>The number format features are computed in. Default <see cref="ComputePrecision.Float32"/>.</summary>
    public ComputePrecision Precision { get; set; } = ComputePrecision.Float32;
    /// <summary>
    /// What runs the backbone for float32 features on the CPU. Default <see cref="FeaturizationEngine.Auto"/>: ONNX Runtime
    /// when it measures faster on this machine and agrees with libtorch, else libtorch.
    /// </summary>
    public FeaturizationEngine Engine { get; set; } = FeaturizationEngine.Auto;
    /// <summary>
    /// When true, the features are the backbone's usual ones followed by the averages of its last feature map's four
    /// quadrants (a two-level spatial pyramid: 5 × 512 values for a ResNet-18), so a linear probe can read where in the
    /// picture a feature fired. On pictures unlike the backbone's training data it measured well above the plain
    /// features for the frozen ImageNet ResNet-18 (docs/imagenet-adaptation.md). Default false. Computed by libtorch
    /// whatever <see cref="Engine"/> says; not available with <c>ToOnnxEstimator</c>.
    /// </summary>
    public bool SpatialPyramid { get; set; }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(InputColumnName)) throw new ArgumentException("InputColumnName must be set.", nameof(InputColumnName));
        if (string.IsNullOrWhiteSpace(OutputColumnName)) throw new ArgumentException("OutputColumnName must be set.", nameof(OutputColumnName));
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be at least 1.");
        if (PixelHeight < 0 || PixelWidth < 0) throw new ArgumentOutOfRangeException(nameof(PixelHeight), "PixelHeight and PixelWidth must not be negative.");
        if (!Enum.IsDefined(Resizing)) throw new ArgumentOutOfRangeException(nameof(Resizing), Resizing, "Resizing must be Fill, IsoPad or IsoCrop.");
        if (!Enum.IsDefined(Precision)) throw new ArgumentOutOfRangeException(nameof(Precision), Precision, "Precision must be Float32 or BFloat16.");
        if (!Enum.IsDefined(Engine)) throw new ArgumentOutOfRangeException(nameof(Engine), Engine, "Engine must be Auto, LibTorch or OnnxRuntime.");
    }
}
