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
    /// Rows the returned featuriser runs per forward pass when a cursor reads in order. Default 8, the fastest
    /// batch in the featurisation benchmark (docs/performance.md).
    /// </summary>
    public int FeaturizationBatchSize { get; set; } = 8;

    /// <summary>
    /// When true, rows whose image cannot be read (missing or corrupt file, truncated data, oversized image, null) are
    /// left out of training instead of stopping it; each is logged and listed, with its reason, in the returned
    /// featuriser's <see cref="Training.PretrainingHistory.SkippedRows"/>. Default false: the first bad row is an error
    /// naming it.
    /// </summary>
    public bool SkipUnreadableImages { get; set; }

    /// <summary>
    /// Where the training images are kept while training (<see cref="TrainingImageCache"/>). Default
    /// <see cref="TrainingImageCache.Auto"/>: in memory for datasets up to <see cref="ImageCacheMemoryLimitMegabytes"/>
    /// (256 MB: about 5,460 square pictures at the default 128 px side for 64 px training), in a temporary file beyond.
    /// The same batches either way, byte for byte.
    /// </summary>
    public TrainingImageCache ImageCache { get; set; } = TrainingImageCache.Auto;

    /// <summary>
    /// Shorter side, in pixels, that the training pictures are kept at — the originals every view is cut from, each with
    /// its own aspect ratio (shrunk once, antialiased; never enlarged). Default 0: twice <see cref="ImageSize"/>, about all
    /// the detail the views can use (SP's smallest view, 8 % of a picture at 32 px, uses 113 px of a 128 px side; a host
    /// view of 20 % at 64 px uses 143). A picture costs 3 · side² · aspect bytes in the cache: 49 KB for a square one at
    /// 128 px, 4× what a copy at 64 px would.
    /// </summary>
    public int ImageCacheShorterSide { get; set; }

    /// <summary>Threads that decode the input while <c>Fit</c> reads it (0: one per core), through the view's cursor set.</summary>
    public int DecodeThreads { get; set; }

    /// <summary>The shorter side the cache keeps (see <see cref="ImageCacheShorterSide"/>).</summary>
    internal int EffectiveImageCacheShorterSide => ImageCacheShorterSide > 0 ? ImageCacheShorterSide : 2 * ImageSize;

    /// <summary>
    /// Most memory, in MB, that <see cref="TrainingImageCache.Auto"/> keeps the images in before it moves them to a
    /// file. Default 256: a training step itself needs about 1.8 GB (small ResNet, 64 px, batch 256), and reading
    /// batches back from the file's page cache measured as fast as memory.
    /// </summary>
    public int ImageCacheMemoryLimitMegabytes { get; set; } = 256;

    /// <summary>
    /// How the ResNets lay out activations on the CPU while training. Default <see cref="Backbones.ConvolutionLayout.Auto"/>:
    /// a few timed steps of each layout the first time a machine trains a shape — for ResNet-18 also channels-last with
    /// the last stages' 2×2 and 1×1 maps convolved as matrix products — then the cached choice (the run's log states it);
    /// the faster one differs between CPUs and precisions. A fixed layout skips the measurement and convolves every map
    /// with oneDNN. Other backbones and CUDA use channels-first.
    /// </summary>
    public Backbones.ConvolutionLayout ConvolutionLayout { get; set; } = Defaults.ConvolutionLayout;

    /// <summary>
    /// How the returned featuriser makes a square of a picture that is not square, in the vocabulary of ML.NET's
    /// <c>ResizeImages</c>. Default <c>IsoCrop</c> (as <c>ResizeImages</c>): the centred square of the shorter side, so
    /// shapes are not distorted; <c>Fill</c> stretches, <c>IsoPad</c> pads with black. Training does not squash or crop
    /// first: every view is a box drawn in the picture's own aspect ratio.
    /// </summary>
    public Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind Resizing { get; set; } = Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind.IsoCrop;

    /// <summary>
    /// The number format pretraining computes the backbone in (<see cref="ML.TrainingPrecision"/>: float32, or bfloat16 on
    /// float32 master weights). Default <see cref="ML.TrainingPrecision.Float32"/>.
    /// </summary>
    public TrainingPrecision TrainingPrecision { get; set; } = Defaults.TrainingPrecision;
    /// <summary>The number format the returned featuriser computes in (independent of <see cref="TrainingPrecision"/>). Default <see cref="ML.FeaturizationPrecision.Float32"/>.</summary>
    public FeaturizationPrecision FeaturizationPrecision { get; set; } = FeaturizationPrecision.Float32;
    /// <summary>What runs the returned featuriser's backbone for float32 features on the CPU. Default <see cref="ML.FeaturizationEngine.Auto"/>.</summary>
    public FeaturizationEngine FeaturizationEngine { get; set; } = FeaturizationEngine.Auto;

    /// <summary>Folder for the file of <see cref="TrainingImageCache.Disk"/> (and Auto past its limit); null: the system's temporary folder.</summary>
    public string? ImageCacheFolder { get; set; }

    /// <summary>
    /// Weights to continue pretraining from, for example <see cref="SpatialBackbone.ImageNetResNet18"/>. When set, its
    /// architecture and input normalisation are used and <see cref="Backbone"/>, <see cref="BackboneWidth"/> and
    /// <see cref="PatchSize"/> are ignored; training runs at <see cref="ImageSize"/>. The given backbone is copied, never
    /// changed. Default null: random initialisation.
    /// </summary>
    public SpatialBackbone? InitialBackbone { get; set; }

    /// <summary>Optional column for the spatial feature map (channels × height × width floats) of the returned featuriser. Default null (none).</summary>
    public string? FeatureMapColumnName { get; set; }

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

    /// <summary>DINO only: local crops per image next to the two global ones. Default 4.</summary>
    public int LocalCrops { get; set; } = Defaults.LocalCrops;

    /// <summary>DINO only: side of the local crops in pixels; 0 (default) means half of <see cref="ImageSize"/>.</summary>
    public int LocalCropSize { get; set; }

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

    /// <summary>Micro-batches of <see cref="BatchSize"/> whose gradients are summed before each step (effective batch = product). Default 1.</summary>
    public int GradientAccumulationSteps { get; set; } = Defaults.GradientAccumulationSteps;

    /// <summary>Peak AdamW learning rate (after warm-up; cosine decay to 0 follows). Default 0.002.</summary>
    public double LearningRate { get; set; } = Defaults.LearningRate;

    /// <summary>AdamW weight decay. Default 1e-4.</summary>
    public double WeightDecay { get; set; } = Defaults.WeightDecay;

    /// <summary>Weight decay at the end of training, reached by a cosine from <see cref="WeightDecay"/> (DINO uses 0.04 → 0.4). Null (default) keeps it constant.</summary>
    public double? FinalWeightDecay { get; set; }

    /// <summary>Teacher momentum at the start for MoCo v3, BYOL and DINO (rises to 1 by a cosine). Null (default) takes the host's own default (0.99).</summary>
    public double? TeacherMomentum { get; set; }

    /// <summary>Fraction of the steps spent in linear learning-rate warm-up. Default 0.1.</summary>
    public double WarmupFraction { get; set; } = Defaults.WarmupFraction;

    /// <summary>Clip the global gradient norm to this value; 0 disables clipping. Default 3.</summary>
    public double GradientClipNorm { get; set; } = Defaults.GradientClipNorm;

    /// <summary>
    /// When true, <see cref="GradientClipNorm"/> applies to the backbone, the host's heads and the SP head each on its
    /// own, so a large gradient in one head does not scale down the backbone's update. Default false (one global clip).
    /// The share of clipped steps is in <see cref="PretrainingHistory.ClippedStepShare"/>.
    /// </summary>
    public bool ClipGradientPerPart { get; set; }

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

    /// <summary>
    /// Batches prepared ahead (views and augmentation) on a loader thread; 0 prepares them on the training thread.
    /// Null (default) chooses 2 on CUDA or with 4+ CPU cores; with fewer it times the first batches and makes one batch
    /// ahead when views take at least 8 % of a step (the log says which). Results do not depend on it.
    /// </summary>
    public int? PrefetchBatches { get; set; }

    /// <summary>
    /// While training, keep freed native memory in the process for the next step to reuse instead of handing it back to
    /// the operating system (glibc on Linux: the malloc thresholds are raised for the run and restored after it, and the
    /// free memory is then returned). Default true; a CPU step is then markedly faster (docs/performance.md). Set false
    /// where the process must keep glibc's malloc settings; a process that sets its own (<c>MALLOC_*_</c>,
    /// <c>GLIBC_TUNABLES</c>) is left alone either way.
    /// </summary>
    public bool ReuseNativeMemory { get; set; } = Defaults.ReuseNativeMemory;

    /// <summary>Receives a report after every step (losses, images/s, time left). Optional.</summary>
    public IProgress<PretrainingProgress>? Progress { get; set; }

    /// <summary>Cancels training between steps (an <see cref="OperationCanceledException"/> is thrown from Fit). Optional.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>
    /// The recipe for adapting ImageNet weights (for example <see cref="SpatialBackbone.ImageNetResNet18"/>) to your
    /// own pictures: SimCLR for 10 epochs at 112 px with the stem and the first two resolution stages frozen
    /// (<see cref="FrozenStages"/> = 3), learning rate 1e-4, batch-norm statistics re-estimated on the clean training
    /// images at 224 px afterwards, and a featuriser that works at 224 px, the side the weights were made for. SP is
    /// off: on top of this recipe it did not help (docs/imagenet-adaptation.md, where each choice is measured). On 2 CPU
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
        Epochs = 10,
        BatchSize = 64,
        LearningRate = 1e-4,
        SpatialPrediction = new SpatialPredictionOptions { Enabled = false },
    };

    internal PretrainingSettings ToSettings()
    {
        if (string.IsNullOrWhiteSpace(InputColumnName)) throw new ArgumentException("InputColumnName must be set.", nameof(InputColumnName));
        if (string.IsNullOrWhiteSpace(OutputColumnName)) throw new ArgumentException("OutputColumnName must be set.", nameof(OutputColumnName));
        if (FeaturizationBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(FeaturizationBatchSize), FeaturizationBatchSize, "FeaturizationBatchSize must be at least 1.");
        if (PixelHeight < 0 || PixelWidth < 0) throw new ArgumentOutOfRangeException(nameof(PixelHeight), "PixelHeight and PixelWidth must not be negative.");
        if (!Enum.IsDefined(Resizing)) throw new ArgumentOutOfRangeException(nameof(Resizing), Resizing, "Resizing must be Fill, IsoPad or IsoCrop.");
        if (!Enum.IsDefined(FeaturizationPrecision)) throw new ArgumentOutOfRangeException(nameof(FeaturizationPrecision), FeaturizationPrecision, "FeaturizationPrecision must be Float32 or BFloat16.");
        if (!Enum.IsDefined(FeaturizationEngine)) throw new ArgumentOutOfRangeException(nameof(FeaturizationEngine), FeaturizationEngine, "FeaturizationEngine must be Auto, LibTorch or OnnxRuntime.");
        if (!Enum.IsDefined(ImageCache)) throw new ArgumentOutOfRangeException(nameof(ImageCache), ImageCache, "ImageCache must be Auto, Memory, Disk or None.");
        if (ImageCacheShorterSide < 0) throw new ArgumentOutOfRangeException(nameof(ImageCacheShorterSide), ImageCacheShorterSide, "ImageCacheShorterSide must not be negative (0: twice ImageSize).");
        if (DecodeThreads < 0) throw new ArgumentOutOfRangeException(nameof(DecodeThreads), DecodeThreads, "DecodeThreads must not be negative (0: one per core).");
        if (ImageCacheMemoryLimitMegabytes < 0) throw new ArgumentOutOfRangeException(nameof(ImageCacheMemoryLimitMegabytes), ImageCacheMemoryLimitMegabytes, "ImageCacheMemoryLimitMegabytes must not be negative.");
        var spatial = SpatialPrediction ?? throw new ArgumentNullException(nameof(SpatialPrediction));
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
            LocalCrops = LocalCrops,
            LocalCropSize = LocalCropSize,
            SpatialPredictionEnabled = spatial.Enabled,
            SpatialPredictionWeight = spatial.Weight ?? SpatialPredictionOptions.DefaultWeight(Framework),
            SpatialPredictionWarmupFraction = spatial.WeightWarmupFraction,
            FeaturizationImageSize = FeaturizationImageSize,
            FrozenStages = FrozenStages,
            StartingPointPenalty = StartingPointPenalty,
            ConvolutionLayout = ConvolutionLayout,
            FreezeBatchNormStatistics = FreezeBatchNormStatistics,
            RecalibrateBatchNorm = RecalibrateBatchNorm,
            SpatialPrediction = spatial.ToSettings(),
            Epochs = Epochs,
            BatchSize = BatchSize,
            GradientAccumulationSteps = GradientAccumulationSteps,
            LearningRate = LearningRate,
            WeightDecay = WeightDecay,
            FinalWeightDecay = FinalWeightDecay,
            TeacherMomentum = TeacherMomentum,
            WarmupFraction = WarmupFraction,
            GradientClipNorm = GradientClipNorm,
            ClipGradientPerPart = ClipGradientPerPart,
            TrainingPrecision = TrainingPrecision,
            ValidationFraction = ValidationFraction,
            Seed = Seed,
            CheckpointDirectory = CheckpointDirectory,
            CheckpointEverySteps = CheckpointEverySteps,
            PrefetchBatches = PrefetchBatches,
            ReuseNativeMemory = ReuseNativeMemory,
            Progress = Progress,
            CancellationToken = CancellationToken,
        };
        settings.Validate();
        return settings;
    }
}
