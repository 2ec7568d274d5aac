using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Training;

namespace SpatialPrediction.ML;

/// <summary>Options of <c>mlContext.Transforms.SpatialPretrain(...)</c>.</summary>
/// <example>
/// <code>
/// var options = new SpatialPretrainOptions { Framework = SslFramework.SimClr, Epochs = 20, ImageSize = 64 };
/// var featurizer = mlContext.Transforms.SpatialPretrain(options).Fit(images);   // "Image" → "Features"
/// </code>
/// </example>
public sealed class SpatialPretrainOptions
{
    // The training defaults live in the engine's settings record; the options take them from there.
    private static readonly PretrainingSettings Defaults = new();

    /// <summary>Image column to train on and featurise: an ML.NET image (MLImage), encoded image bytes, or ExtractPixels floats. Default "Image".</summary>
    public string InputColumnName { get; set; } = "Image";

    /// <summary>Output column: a vector of <c>float</c> with the backbone's feature dimension. Default "Features".</summary>
    public string OutputColumnName { get; set; } = "Features";

    /// <summary>
    /// When true, rows whose image cannot be read (missing or corrupt file, truncated data, oversized image, null) are
    /// left out of training instead of stopping it; each is logged and listed, with its reason, in the returned
    /// featuriser's <see cref="Training.PretrainingHistory.SkippedRows"/>. Default false: the first bad row is an error
    /// naming it.
    /// </summary>
    public bool SkipUnreadableImages { get; set; }

    /// <summary>
    /// How the returned featuriser makes a square of a picture that is not square, in the vocabulary of ML.NET's
    /// <c>ResizeImages</c>. Default <c>IsoCrop</c> (as <c>ResizeImages</c>): the centred square of the shorter side, so
    /// shapes are not distorted; <c>Fill</c> stretches, <c>IsoPad</c> pads with black. Training does not squash or crop
    /// first: every view is a box drawn in the picture's own aspect ratio.
    /// </summary>
    public Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind Resizing { get; set; } = Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind.IsoCrop;

    /// <summary>
    /// Weights to continue pretraining from, for example <see cref="SpatialBackbone.ImageNetResNet18"/>. When set, its
    /// architecture and input normalisation are used and <see cref="Backbone"/>, <see cref="BackboneWidth"/> and
    /// <see cref="PatchSize"/> are ignored; training runs at <see cref="ImageSize"/>. The given backbone is copied, never
    /// changed. Default null: random initialisation.
    /// </summary>
    public SpatialBackbone? InitialBackbone { get; set; }

    /// <summary>Optional column for the spatial feature map (channels × height × width floats) of the returned featuriser. Default null (none).</summary>
    public string? FeatureMapColumnName { get; set; }

    /// <summary>
    /// When true, the returned featuriser's features are the backbone's usual ones followed by the averages of its last
    /// feature map's four quadrants (<see cref="SpatialFeaturizeOptions.SpatialPyramid"/>). Training is unchanged.
    /// Default false.
    /// </summary>
    public bool SpatialPyramid { get; set; }

    /// <summary>Height of ExtractPixels input vectors; 0 (default) infers a square from the length.</summary>
    public int PixelHeight { get; set; }

    /// <summary>Width of ExtractPixels input vectors; 0 (default) infers a square from the length.</summary>
    public int PixelWidth { get; set; }

    /// <summary>
    /// Host self-supervised objective SP is plugged into: None (SP alone), SimClr, MoCoV3, Byol, Dino, or Custom (yours,
    /// built by <see cref="CustomObjective"/>). Default <see cref="SslFramework.SimClr"/>.
    /// </summary>
    public SslFramework Framework { get; set; } = Defaults.Framework;

    /// <summary>
    /// With <see cref="Framework"/> = <see cref="SslFramework.Custom"/>: builds your host objective for a backbone of the
    /// given feature dimension, once per <c>Fit</c> (docs/architecture.md walks through one). Default null.
    /// </summary>
    public Func<int, SelfSupervisedObjective>? CustomObjective { get; set; }

    /// <summary>Backbone architecture: SmallResNet, ResNet18, ResNet50, VitTiny or VitSmall. Default <see cref="BackboneKind.SmallResNet"/>.</summary>
    public BackboneKind Backbone { get; set; } = Defaults.Backbone;

    /// <summary>Base channel width of the small ResNet (its feature dimension is 8× this). Default 32.</summary>
    public int BackboneWidth { get; set; } = Defaults.BackboneWidth;

    /// <summary>Patch side in pixels for the ViT backbones (ImageSize and every view size must be multiples of it). Default 8.</summary>
    public int PatchSize { get; set; } = Defaults.PatchSize;

    /// <summary>The SP plug-in's options; <c>SpatialPrediction.Enabled = false</c> trains the host alone.</summary>
    public SpatialPredictionOptions SpatialPrediction { get; set; } = new();

    /// <summary>Passes over the training images. 0 returns the randomly initialised backbone (a baseline). Default 10.</summary>
    public int Epochs { get; set; } = Defaults.Epochs;

    /// <summary>Images per optimisation step. Default 64.</summary>
    public int BatchSize { get; set; } = Defaults.BatchSize;

    /// <summary>Side in pixels images are resized to for training and featurisation. Default 64.</summary>
    public int ImageSize { get; set; } = Defaults.ImageSize;

    /// <summary>
    /// Side in pixels the returned featuriser resizes images to; 0 (default) means <see cref="ImageSize"/>. Continued
    /// pretraining from ImageNet weights can train at a smaller side (cheaper) and featurise at the side the weights
    /// were made for.
    /// </summary>
    public int FeaturizationImageSize { get; set; }

    /// <summary>
    /// Leading backbone stages kept as they started (weights and batch-norm statistics): 1 freezes the stem, 2 also the
    /// first resolution stage, and so on (ResNets only). For continued pretraining. Default 0 (all train).
    /// </summary>
    public int FrozenStages { get; set; }

    /// <summary>
    /// L2-SP strength α for continued pretraining (Li, Grandvalet and Davoine, 2018): the weights that train are pulled
    /// toward <see cref="InitialBackbone"/>'s by the penalty α/2·‖w − w₀‖², so the run adapts the pretrained features
    /// without drifting far from them. Needs <see cref="InitialBackbone"/>. Default 0 (off).
    /// </summary>
    public double StartingPointPenalty { get; set; }

    /// <summary>
    /// When true, every batch norm of the backbone keeps its running statistics during training (its scale and shift
    /// still train). For continued pretraining, where augmented views would otherwise overwrite the statistics the
    /// frozen featuriser relies on. Default false.
    /// </summary>
    public bool FreezeBatchNormStatistics { get; set; }

    /// <summary>
    /// When true, batch-norm running statistics are re-estimated after training on the clean training images at the
    /// featuriser's side (<see cref="FeaturizationImageSize"/>), without augmentation. Default false.
    /// </summary>
    public bool RecalibrateBatchNorm { get; set; }

    /// <summary>Peak AdamW learning rate (after warm-up; cosine decay to 0 follows). Default 0.002.</summary>
    public double LearningRate { get; set; } = Defaults.LearningRate;

    /// <summary>Fraction of the images held out (never trained on) to report the SP validation loss. Default 0.1.</summary>
    public double ValidationFraction { get; set; } = Defaults.ValidationFraction;

    /// <summary>Seed of every random choice; the same seed on the CPU gives the same weights. Default 1.</summary>
    public int Seed { get; set; } = Defaults.Seed;

    /// <summary>
    /// "cpu", "cuda" or "cuda:N". Null (default) follows ML.NET: <c>MLContext.GpuDeviceId</c> selects a GPU and
    /// <c>MLContext.FallbackToCpu</c> allows training on the CPU when none is usable.
    /// </summary>
    public string? Device { get; set; }

    /// <summary>
    /// Folder for checkpoints. When set, a checkpoint is written every <see cref="CheckpointEverySteps"/> steps, on
    /// cancellation and at the end, and a Fit with the same options finds it there and resumes where it stopped. Null
    /// (default): no checkpoints.
    /// </summary>
    public string? CheckpointDirectory { get; set; }

    /// <summary>Steps between checkpoints. Default 100.</summary>
    public int CheckpointEverySteps { get; set; } = Defaults.CheckpointEverySteps;

    /// <summary>Receives a report after every step (losses, images/s, time left). Optional.</summary>
    public IProgress<PretrainingProgress>? Progress { get; set; }

    /// <summary>Cancels training between steps (an <see cref="OperationCanceledException"/> is thrown from Fit). Optional.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>The optimiser's settings beyond the learning rate (weight decay, warm-up, clipping, accumulation, teacher momentum).</summary>
    public OptimizerOptions Optimizer { get; set; } = new();

    /// <summary>DINO's multi-crop views (local crops and their side); read only when <see cref="Framework"/> is DINO.</summary>
    public DinoOptions Dino { get; set; } = new();

    /// <summary>How the machine runs training and the featuriser (image cache, threads, layout, number formats, engine); the defaults choose.</summary>
    public PretrainingRuntimeOptions Runtime { get; set; } = new();

    /// <summary>
    /// The recipe for adapting ImageNet weights (for example <see cref="SpatialBackbone.ImageNetResNet18"/>) to your
    /// own pictures: SimCLR for 10 epochs at 112 px with the stem and the first two resolution stages frozen
    /// (<see cref="FrozenStages"/> = 3), learning rate 1e-4, batch-norm statistics re-estimated on the clean training
    /// images at 224 px afterwards, and a featuriser that works at 224 px, the side the weights were made for and gives
    /// spatial-pyramid features (<see cref="SpatialPyramid"/>: 5 × 512 values, the usual 512 first). SP is off: on top
    /// of this recipe it did not help (docs/imagenet-adaptation.md, where each choice is measured). On 2 CPU
    /// cores and about 1,200 images a run trains for under 3 minutes. Change any property of the returned options as
    /// usual; <paramref name="initialBackbone"/> stays the caller's to dispose.
    /// </summary>
    /// <example>
    /// <code>
    /// using var imageNet = SpatialBackbone.ImageNetResNet18();
    /// var featurizer = mlContext.Transforms.SpatialPretrain(SpatialPretrainOptions.ImageNetAdaptation(imageNet)).Fit(images);
    /// </code>
    /// </example>
    public static SpatialPretrainOptions ImageNetAdaptation(SpatialBackbone initialBackbone) => new()
    {
        InitialBackbone = initialBackbone ?? throw new ArgumentNullException(nameof(initialBackbone)),
        Framework = SslFramework.SimClr,
        ImageSize = 112,
        FeaturizationImageSize = 224,
        FrozenStages = 3,
        RecalibrateBatchNorm = true,
        SpatialPyramid = true,
        Epochs = 10,
        BatchSize = 64,
        LearningRate = 1e-4,
        SpatialPrediction = new SpatialPredictionOptions { Enabled = false },
    };

    internal PretrainingSettings ToSettings()
    {
        if (string.IsNullOrWhiteSpace(InputColumnName)) throw new ArgumentException("InputColumnName must be set.", nameof(InputColumnName));
        if (string.IsNullOrWhiteSpace(OutputColumnName)) throw new ArgumentException("OutputColumnName must be set.", nameof(OutputColumnName));
        if (PixelHeight < 0 || PixelWidth < 0) throw new ArgumentOutOfRangeException(nameof(PixelHeight), "PixelHeight and PixelWidth must not be negative.");
        if (!Enum.IsDefined(Resizing)) throw new ArgumentOutOfRangeException(nameof(Resizing), Resizing, "Resizing must be Fill, IsoPad or IsoCrop.");
        var spatial = SpatialPrediction ?? throw new ArgumentNullException(nameof(SpatialPrediction));
        var optimizer = Optimizer ?? throw new ArgumentNullException(nameof(Optimizer));
        var dino = Dino ?? throw new ArgumentNullException(nameof(Dino));
        var runtime = Runtime ?? throw new ArgumentNullException(nameof(Runtime));
        runtime.Validate();
        var initial = InitialBackbone;
        var settings = new PretrainingSettings
        {
            Framework = Framework,
            CustomObjective = CustomObjective,
            Backbone = initial?.Kind ?? Backbone,
            BackboneWidth = initial?.Spec.Width ?? BackboneWidth,
            PatchSize = initial?.Spec.PatchSize ?? PatchSize,
            Normalization = initial?.Spec.Normalization ?? InputNormalization.ImageNet,
            InitialBackbone = initial?.Module,
            InitialBackboneOrigin = initial is null ? "" : $"{initial.Kind}: {initial.TrainedWith}",
            ImageSize = ImageSize,
            LocalCrops = dino.LocalCrops,
            LocalCropSize = dino.LocalCropSize,
            SpatialPredictionEnabled = spatial.Enabled,
            SpatialPredictionWeight = spatial.Weight ?? SpatialPredictionOptions.DefaultWeight(Framework),
            SpatialPredictionWarmupFraction = spatial.WeightWarmupFraction,
            FeaturizationImageSize = FeaturizationImageSize,
            FrozenStages = FrozenStages,
            StartingPointPenalty = StartingPointPenalty,
            ConvolutionLayout = runtime.ConvolutionLayout,
            FreezeBatchNormStatistics = FreezeBatchNormStatistics,
            RecalibrateBatchNorm = RecalibrateBatchNorm,
            SpatialPrediction = spatial.ToSettings(),
            Epochs = Epochs,
            BatchSize = BatchSize,
            GradientAccumulationSteps = optimizer.GradientAccumulationSteps,
            LearningRate = LearningRate,
            WeightDecay = optimizer.WeightDecay,
            FinalWeightDecay = optimizer.FinalWeightDecay,
            TeacherMomentum = optimizer.TeacherMomentum,
            WarmupFraction = optimizer.WarmupFraction,
            GradientClipNorm = optimizer.GradientClipNorm,
            ClipGradientPerPart = optimizer.ClipGradientPerPart,
            TrainingPrecision = runtime.TrainingPrecision,
            ValidationFraction = ValidationFraction,
            Seed = Seed,
            CheckpointDirectory = CheckpointDirectory,
            CheckpointEverySteps = CheckpointEverySteps,
            PrefetchBatches = runtime.PrefetchBatches,
            ReuseNativeMemory = runtime.ReuseNativeMemory,
            Progress = Progress,
            CancellationToken = CancellationToken,
        };
        settings.Validate();
        return settings;
    }
}
