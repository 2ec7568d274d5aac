using SpatialPrediction.ML.Training;

namespace SpatialPrediction.ML;

/// <summary>
/// How the machine runs pretraining and the returned featuriser: where the training images are kept, threads, the
/// convolution layout, number formats and the featurisation engine. The defaults choose for the machine; none of these
/// changes the method. <see cref="SpatialPretrainOptions.Runtime"/> holds them.
/// </summary>
/// <example>
/// <code>
/// var options = new SpatialPretrainOptions { Runtime = { ImageCache = TrainingImageCache.Disk, ReuseNativeMemory = false } };
/// </code>
/// </example>
public sealed class PretrainingRuntimeOptions
{
    private static readonly PretrainingSettings Defaults = new();

    /// <summary>
    /// Where the training images are kept while training (<see cref="TrainingImageCache"/>). Default
    /// <see cref="TrainingImageCache.Auto"/>: in memory for datasets up to <see cref="ImageCacheMemoryLimitMegabytes"/>
    /// (256 MB: about 5,460 square pictures at the default 128 px side for 64 px training), in a temporary file beyond.
    /// The same batches either way, byte for byte.
    /// </summary>
    public TrainingImageCache ImageCache { get; set; } = TrainingImageCache.Auto;

    /// <summary>
    /// Shorter side, in pixels, that the training pictures are kept at — the originals every view is cut from, each with
    /// its own aspect ratio (shrunk once, antialiased; never enlarged). Default 0: twice
    /// <see cref="SpatialPretrainOptions.ImageSize"/>, about all the detail the views can use (SP's smallest view, 8 % of
    /// a picture at 32 px, uses 113 px of a 128 px side; a host view of 20 % at 64 px uses 143). A picture costs
    /// 3 · side² · aspect bytes in the cache: 49 KB for a square one at 128 px, 4× what a copy at 64 px would.
    /// </summary>
    public int ImageCacheShorterSide { get; set; }

    /// <summary>
    /// Most memory, in MB, that <see cref="TrainingImageCache.Auto"/> keeps the images in before it moves them to a
    /// file. Default 256: a training step itself needs about 1.8 GB (small ResNet, 64 px, batch 256), and reading
    /// batches back from the file's page cache is as fast as memory.
    /// </summary>
    public int ImageCacheMemoryLimitMegabytes { get; set; } = 256;

    /// <summary>Folder for the file of <see cref="TrainingImageCache.Disk"/> (and Auto past its limit); null: the system's temporary folder.</summary>
    public string? ImageCacheFolder { get; set; }

    /// <summary>Threads that decode the input while <c>Fit</c> reads it (0: one per core), through the view's cursor set.</summary>
    public int DecodeThreads { get; set; }

    /// <summary>
    /// Batches prepared ahead (views and augmentation) on a loader thread; 0 prepares them on the training thread.
    /// Null (default) chooses 2 on CUDA or with 4+ CPU cores; with fewer it times the first batches and makes one batch
    /// ahead when views take at least 8 % of a step (the log says which). Results do not depend on it.
    /// </summary>
    public int? PrefetchBatches { get; set; }

    /// <summary>
    /// While training, keep freed native memory in the process for the next step to reuse instead of handing it back to
    /// the operating system (glibc on Linux: the malloc thresholds are raised for the run, the log says so, and the free
    /// memory is returned after it). Default true; a CPU step is then markedly faster (docs/performance.md). Set false
    /// where the process must keep glibc's malloc settings; a process that sets its own (<c>MALLOC_*_</c>,
    /// <c>GLIBC_TUNABLES</c>) is left alone either way.
    /// </summary>
    public bool ReuseNativeMemory { get; set; } = Defaults.ReuseNativeMemory;

    /// <summary>
    /// How the ResNets lay out activations on the CPU while training. Default <see cref="Backbones.ConvolutionLayout.Auto"/>:
    /// a few timed steps of each layout the first time a machine trains a shape — for ResNet-18 also channels-last with
    /// the last stages' 2×2 and 1×1 maps convolved as matrix products — then the cached choice (the run's log states it);
    /// the faster one differs between CPUs and precisions. A fixed layout skips the measurement and convolves every map
    /// with oneDNN, so a run's weights do not depend on a timing. Other backbones and CUDA use channels-first.
    /// </summary>
    public Backbones.ConvolutionLayout ConvolutionLayout { get; set; } = Defaults.ConvolutionLayout;

    /// <summary>
    /// The number format pretraining computes the backbone in (<see cref="ML.ComputePrecision"/>: float32, or bfloat16 on
    /// float32 master weights). Default <see cref="ML.ComputePrecision.Float32"/>.
    /// </summary>
    public ComputePrecision TrainingPrecision { get; set; } = Defaults.TrainingPrecision;

    /// <summary>The number format the returned featuriser computes in (independent of <see cref="TrainingPrecision"/>). Default <see cref="ML.ComputePrecision.Float32"/>.</summary>
    public ComputePrecision FeaturizationPrecision { get; set; } = ComputePrecision.Float32;

    /// <summary>What runs the returned featuriser's backbone for float32 features on the CPU. Default <see cref="ML.FeaturizationEngine.Auto"/>.</summary>
    public FeaturizationEngine FeaturizationEngine { get; set; } = FeaturizationEngine.Auto;

    /// <summary>
    /// Rows the returned featuriser runs per forward pass when a cursor reads in order. Default 8, the fastest
    /// batch in the featurisation benchmark (docs/performance.md).
    /// </summary>
    public int FeaturizationBatchSize { get; set; } = 8;

    /// <summary>The shorter side the cache keeps for training at <paramref name="imageSize"/> (see <see cref="ImageCacheShorterSide"/>).</summary>
    internal int EffectiveImageCacheShorterSide(int imageSize) => ImageCacheShorterSide > 0 ? ImageCacheShorterSide : 2 * imageSize;

    /// <summary>Throws for a value out of range, naming it as <c>Runtime.Name</c>.</summary>
    internal void Validate()
    {
        if (FeaturizationBatchSize < 1) throw new ArgumentOutOfRangeException($"Runtime.{nameof(FeaturizationBatchSize)}", FeaturizationBatchSize, "Runtime.FeaturizationBatchSize must be at least 1.");
        if (!Enum.IsDefined(FeaturizationPrecision)) throw new ArgumentOutOfRangeException($"Runtime.{nameof(FeaturizationPrecision)}", FeaturizationPrecision, "Runtime.FeaturizationPrecision must be Float32 or BFloat16.");
        if (!Enum.IsDefined(FeaturizationEngine)) throw new ArgumentOutOfRangeException($"Runtime.{nameof(FeaturizationEngine)}", FeaturizationEngine, "Runtime.FeaturizationEngine must be Auto, LibTorch or OnnxRuntime.");
        if (!Enum.IsDefined(ImageCache)) throw new ArgumentOutOfRangeException($"Runtime.{nameof(ImageCache)}", ImageCache, "Runtime.ImageCache must be Auto, Memory, Disk or None.");
        if (ImageCacheShorterSide < 0) throw new ArgumentOutOfRangeException($"Runtime.{nameof(ImageCacheShorterSide)}", ImageCacheShorterSide, "Runtime.ImageCacheShorterSide must not be negative (0: twice ImageSize).");
        if (DecodeThreads < 0) throw new ArgumentOutOfRangeException($"Runtime.{nameof(DecodeThreads)}", DecodeThreads, "Runtime.DecodeThreads must not be negative (0: one per core).");
        if (ImageCacheMemoryLimitMegabytes < 0) throw new ArgumentOutOfRangeException($"Runtime.{nameof(ImageCacheMemoryLimitMegabytes)}", ImageCacheMemoryLimitMegabytes, "Runtime.ImageCacheMemoryLimitMegabytes must not be negative.");
    }
}
