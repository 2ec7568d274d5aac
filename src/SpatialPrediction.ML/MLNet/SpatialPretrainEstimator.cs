using Microsoft.ML;
using SpatialPrediction.ML.MLNet;
using SpatialPrediction.ML.Training;

namespace SpatialPrediction.ML;

/// <summary>
/// Runs Spatial Prediction pretraining (host SSL objective + SP plug-in) on an image column and returns the frozen
/// backbone as a <see cref="SpatialFeaturizerTransformer"/>. Created by <c>mlContext.Transforms.SpatialPretrain(...)</c>.
/// </summary>
public sealed class SpatialPretrainEstimator : IEstimator<SpatialFeaturizerTransformer>
{
    private const string Component = "SpatialPretrain";
    private readonly CatalogEnvironment context;
    private readonly PretrainingSettings settings;

    internal SpatialPretrainEstimator(CatalogEnvironment context, SpatialPretrainOptions options)
    {
        this.context = context;
        Options = options ?? throw new ArgumentNullException(nameof(options));
        // Validated once, here, so a mistake fails before a long data read; Fit trains with these settings.
        settings = options.ToSettings();
    }

    /// <summary>The options this estimator trains with.</summary>
    public SpatialPretrainOptions Options { get; }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ImageColumn.Check(inputSchema, Options.InputColumnName, Component);
        return Options.FeatureMapColumnName is null
            ? SchemaShapeColumns.With(inputSchema, SchemaShapeColumns.FloatVector(Options.OutputColumnName))
            : SchemaShapeColumns.With(inputSchema, SchemaShapeColumns.FloatVector(Options.OutputColumnName), SchemaShapeColumns.FloatVector(Options.FeatureMapColumnName));
    }

    private Training.TrainingImages DecodingImages(IDataView input, List<string>? skipped)
    {
        if (input is not Data.IImageFileRows files || files.ImageColumnName != Options.InputColumnName)
            throw new ArgumentException(
                $"{Component}: ImageCache None reads every picture again from its file for every batch, so the input must be the data view " +
                $"of an ImageDataset (ImageDataset.FromFolder or FromCsv, then ToDataView) with InputColumnName 'Image'; this input is a " +
                $"{input.GetType().Name} read through column '{Options.InputColumnName}'. Use ImageCache Auto or Disk for other inputs.", nameof(input));
        int threads = Options.Runtime.DecodeThreads > 0 ? Options.Runtime.DecodeThreads : Environment.ProcessorCount;
        return new Training.DecodingTrainingImages(files.ImagePaths, Options.Runtime.EffectiveImageCacheShorterSide(Options.ImageSize), threads, skipped);
    }

    /// <summary>Reads every image of the input column, pretrains, and returns the featuriser.</summary>
    public SpatialFeaturizerTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (log, isCanceled, channel) = context.StartRun(Component);
        using var _ = channel;
        var settings = this.settings with { Log = log, IsCanceled = isCanceled };
        var device = TrainingDevice.Resolve(Options.Device, context.GpuDeviceId, context.FallbackToCpu);
        var imageInput = ImageInput.For(input.Schema, Options.InputColumnName, Options.ImageSize, Options.PixelHeight, Options.PixelWidth, Component, Options.Resizing);
        var skipped = Options.SkipUnreadableImages ? new List<string>() : null;
        using var images = Options.Runtime.ImageCache == TrainingImageCache.None
            ? DecodingImages(input, skipped)
            : ImageColumn.ReadImages(input, imageInput, Options.InputColumnName, Options.Runtime.EffectiveImageCacheShorterSide(Options.ImageSize), skipped,
                Options.Runtime.ImageCache, (long)Options.Runtime.ImageCacheMemoryLimitMegabytes << 20, Options.Runtime.ImageCacheFolder, Options.Runtime.DecodeThreads, log);
        foreach (var row in skipped ?? new List<string>()) log($"Skipped unreadable image, {row}");
        if (images.Count == 0)
            throw new ArgumentException(skipped is { Count: > 0 }
                ? $"{Component}: all {skipped.Count} rows were unreadable and skipped; there is nothing to train on. First: {skipped[0]}"
                : $"{Component}: the input has no rows; there is nothing to train on.", nameof(input));
        int skippedBefore = skipped?.Count ?? 0;
        var result = SpatialPretrainer.Train(images, settings, device, skipped);
        foreach (var row in skipped?.Skip(skippedBefore) ?? Enumerable.Empty<string>()) log($"Skipped unreadable image, {row}");
        var spec = settings.BackboneSpec with { ImageSize = settings.EffectiveFeaturizationImageSize };
        var backbone = new SpatialBackbone(result.Backbone, spec, result.Fingerprint, device);
        return new SpatialFeaturizerTransformer(backbone, Options.InputColumnName, Options.OutputColumnName, Options.Runtime.FeaturizationBatchSize,
            Options.PixelHeight, Options.PixelWidth, result.History, Options.FeatureMapColumnName, Options.Resizing, Options.Runtime.FeaturizationPrecision, Options.Runtime.FeaturizationEngine,
            Options.SpatialPyramid);
    }
}
