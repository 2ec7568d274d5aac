using Microsoft.ML.Transforms.Image;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using SpatialPrediction.ML;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.MLNet;
using SpatialPrediction.ML.Training;
using static TorchSharp.torch;

[assembly: LoadableClass(typeof(SpatialFeaturizerTransformer), null, typeof(SignatureLoadModel),
    "Spatial Prediction featurizer", SpatialFeaturizerTransformer.LoaderSignature)]

namespace SpatialPrediction.ML;

/// <summary>
/// A frozen backbone as an ML.NET transformer: maps an image column (an <see cref="MLImage"/>, encoded image bytes, or
/// <c>ExtractPixels</c> floats) to a vector of <c>float</c> features. Rows are featurised lazily, in batches of
/// <see cref="BatchSize"/> when read in order. It saves inside ML.NET model zips, weights included
/// (<c>mlContext.Model.Save/Load</c>). For trainers that make several passes (L-BFGS, SDCA), put
/// <c>AppendCacheCheckpoint</c> after it so each image is featurised once.
/// </summary>
/// <remarks>
/// Thread-safe: concurrent callers share this featuriser's session, one forward pass at a time. Deliberately not
/// <see cref="IDisposable"/>: ML.NET disposes disposable transformers together with the prediction engines made
/// from them, which would free the weights under every other engine. The native memory belongs to
/// <see cref="Backbone"/>; dispose that when the model is no longer used.
/// </remarks>
public sealed class SpatialFeaturizerTransformer : ITransformer
{
    internal const string LoaderSignature = "SpatialFeaturizer";
    private const string BackboneStreamName = "SpatialBackbone.bin";
    private const string Component = nameof(SpatialFeaturizerTransformer);
    private readonly SpatialBackbone backbone;
    // This featuriser's inference copies, layout and engine choices; disposed with the backbone.
    private readonly FeaturizationSession session;

    internal SpatialFeaturizerTransformer(SpatialBackbone backbone, string inputColumnName, string outputColumnName, int batchSize,
        int pixelHeight, int pixelWidth, PretrainingHistory? trainingHistory, string? featureMapColumnName = null,
        ImageResizingEstimator.ResizingKind resizing = ImageResizingEstimator.ResizingKind.IsoCrop,
        ComputePrecision precision = ComputePrecision.Float32, FeaturizationEngine engine = FeaturizationEngine.Auto, bool spatialPyramid = false)
    {
        this.backbone = backbone;
        session = new FeaturizationSession(backbone);
        Resizing = resizing;
        Precision = precision;
        Engine = engine;
        SpatialPyramid = spatialPyramid;
        FeatureMapColumnName = string.IsNullOrEmpty(featureMapColumnName) ? null : featureMapColumnName;
        InputColumnName = inputColumnName;
        OutputColumnName = outputColumnName;
        BatchSize = batchSize;
        PixelHeight = pixelHeight;
        PixelWidth = pixelWidth;
        TrainingHistory = trainingHistory;
    }

    /// <summary>Image column read.</summary>
    public string InputColumnName { get; }
    /// <summary>Feature column written.</summary>
    public string OutputColumnName { get; }
    /// <summary>
    /// Column for the spatial feature map (a vector of floats with dimensions channels × height × width, e.g. the last
    /// CNN stage or the ViT patch tokens on their grid), for dense probes; null when not produced.
    /// </summary>
    public string? FeatureMapColumnName { get; }
    /// <summary>Values in one feature map (channels × height × width); 0 without a feature-map column.</summary>
    public int FeatureMapLength => FeatureMapColumnName is null ? 0 : backbone.FeatureMapShape.Channels * backbone.FeatureMapShape.Height * backbone.FeatureMapShape.Width;
    /// <summary>Rows featurised per forward pass when a cursor reads in order.</summary>
    public int BatchSize { get; }

    /// <summary>
    /// Whether batched cursors read the next batch on a worker while one is featurised: null (the default) decides per
    /// cursor (<see cref="BatchedFeatureSource"/>); true or false fixes it. Not saved with the model.
    /// </summary>
    internal bool? ReadAhead { get; set; }
    /// <summary>
    /// How a picture that is not square becomes the backbone's square (ML.NET's <c>ResizeImages</c> kinds): IsoCrop (the
    /// default of new featurisers, as of <c>ResizeImages</c>) keeps the centred square, Fill stretches (what models saved
    /// before this setting existed do), IsoPad pads with black.
    /// </summary>
    public ImageResizingEstimator.ResizingKind Resizing { get; }
    /// <summary>The number format features are computed in (<see cref="ComputePrecision"/>).</summary>
    public ComputePrecision Precision { get; }
    /// <summary>What runs the backbone for float32 features on the CPU (<see cref="FeaturizationEngine"/>).</summary>
    public FeaturizationEngine Engine { get; }
    /// <summary>Height of <c>ExtractPixels</c> vectors (0: square, inferred from the length).</summary>
    public int PixelHeight { get; }
    /// <summary>Width of <c>ExtractPixels</c> vectors (0: square, inferred from the length).</summary>
    public int PixelWidth { get; }
    /// <summary>The frozen backbone (architecture, input size, weights); it can be saved on its own.</summary>
    public SpatialBackbone Backbone => backbone;
    /// <summary>Side in pixels images are resized to before the backbone.</summary>
    public int ImageSize => backbone.ImageSize;
    /// <summary>
    /// Whether the features are the backbone's usual ones followed by the averages of the last feature map's four
    /// quadrants (<see cref="SpatialFeaturizeOptions.SpatialPyramid"/>).
    /// </summary>
    public bool SpatialPyramid { get; }
    /// <summary>Length of the feature vector: the backbone's feature dimension, plus four times its feature map's channels with <see cref="SpatialPyramid"/>.</summary>
    public int FeatureDimension => SpatialPyramid ? SpatialPyramidPooling.Length(backbone.FeatureDimension, backbone.FeatureMapShape.Channels) : backbone.FeatureDimension;
    /// <summary>Losses and timings of the pretraining run that produced this featuriser; null when it was loaded or not trained here.</summary>
    public PretrainingHistory? TrainingHistory { get; }

    /// <summary>How this featuriser runs its backbone (inference copies, layout, engine); for benchmarks and tests.</summary>
    internal FeaturizationSession Session => session;

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        InputFor(inputSchema);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        builder.AddColumn(OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, FeatureDimension));
        if (FeatureMapColumnName is not null)
        {
            var (c, h, w) = backbone.FeatureMapShape;
            builder.AddColumn(FeatureMapColumnName, new VectorDataViewType(NumberDataViewType.Single, c, h, w));
        }
        return builder.ToSchema();
    }

    /// <inheritdoc />
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new FeaturizedDataView(this, input);
    }

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => new FeaturizerRowMapper(this, inputSchema);

    /// <summary>Features of one image, computed as this featuriser's columns are (its precision and engine).</summary>
    public float[] Featurize(MLImage image)
    {
        if (!SpatialPyramid) return session.Featurize(image, Precision, Engine, BatchSize);
        using var scope = NewDisposeScope();
        var (pooled, map) = session.FeaturizeBatchWithMap(ImageColumn.ToTensor(image, ImageSize, CPU, "(image)", -1, Component), Precision);
        var features = new float[FeatureDimension];
        SpatialPyramidPooling.Pool(pooled, backbone.FeatureDimension, map, backbone.FeatureMapShape, 1, features);
        return features;
    }

    internal ImageInput InputFor(DataViewSchema schema) => ImageInput.For(schema, InputColumnName, ImageSize, PixelHeight, PixelWidth, Component, Resizing);

    /// <summary>
    /// Featurises planar RGB images (each 3·S·S bytes) into <paramref name="pooled"/> (and the feature maps into
    /// <paramref name="maps"/> when given), row after row.
    /// </summary>
    internal void FeaturizeInto(byte[] planes, int count, Span<float> pooled, float[]? maps = null)
    {
        if (maps is null && !SpatialPyramid)
        {
            session.FeaturizeBytes(planes, count, Precision, Engine, BatchSize).CopyTo(pooled);
            return;
        }
        using var scope = NewDisposeScope();
        var (pooledValues, mapValues) = session.FeaturizeBatchWithMap(ImageColumn.UnitBatch(planes, count, ImageSize), Precision);
        if (SpatialPyramid) SpatialPyramidPooling.Pool(pooledValues, backbone.FeatureDimension, mapValues, backbone.FeatureMapShape, count, pooled);
        else pooledValues.CopyTo(pooled);
        if (maps is not null) mapValues.CopyTo(maps, 0);
    }

    /// <summary>
    /// The input columns needed to serve <paramref name="requested"/> output columns, and which of the two outputs are
    /// among them (either needs the image column).
    /// </summary>
    internal (IEnumerable<DataViewSchema.Column> Input, bool FeaturesActive, bool MapActive) InputColumnsFor(
        DataViewSchema inputSchema, IEnumerable<DataViewSchema.Column> requested)
    {
        int firstOutput = inputSchema.Count;
        bool featuresActive = false, mapActive = false;
        var needed = new HashSet<int>();
        foreach (var column in requested)
        {
            if (column.Index == firstOutput) featuresActive = true;
            else if (column.Index > firstOutput) mapActive = true;
            else needed.Add(column.Index);
        }
        if (featuresActive || mapActive) needed.Add(inputSchema[InputColumnName].Index);
        return (needed.OrderBy(i => i).Select(i => inputSchema[i]).ToList(), featuresActive, mapActive);
    }

    /// <summary>
    /// Exports the backbone to <paramref name="onnxPath"/> and returns the ML.NET pipeline that runs it in ONNX Runtime on
    /// the same columns: <c>ResizeImages</c> (stretch to the backbone's size) → <c>ExtractPixels</c> →
    /// <c>ApplyOnnxModel</c> → the helper columns dropped. Fit it on any view with the image column. Features equal this
    /// transformer's for images already at the backbone's size; for other sizes the two resizers differ slightly. Needs
    /// an ONNX Runtime package in the application (<c>Microsoft.ML.OnnxRuntime</c>, or the GPU one).
    /// </summary>
    public IEstimator<ITransformer> ToOnnxEstimator(MLContext mlContext, string onnxPath)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        if (SpatialPyramid)
            throw new NotSupportedException("ToOnnxEstimator exports the backbone's usual features; this featuriser adds its feature map's quadrant averages " +
                                            "(SpatialPyramid), which the ONNX model does not compute. Export a featuriser made with SpatialPyramid = false.");
        string resized = OutputColumnName + ".Resized", pixels = OutputColumnName + ".Pixels";
        Backbone.ExportOnnx(onnxPath, pixels, OutputColumnName);
        int size = Backbone.ImageSize;
        return mlContext.Transforms.ResizeImages(resized, size, size, InputColumnName, Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind.Fill)
            .Append(mlContext.Transforms.ExtractPixels(pixels, resized))
            .Append(mlContext.Transforms.ApplyOnnxModel(new[] { OutputColumnName }, new[] { pixels }, onnxPath))
            .Append(mlContext.Transforms.DropColumns(resized, pixels));
    }

    // ---- ML.NET model zip: the layout ML.NET's own transforms use, with the backbone file as a binary stream ----

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "SPFEATUR",
        verWrittenCur: 0x00010006, // 1.2 adds the feature-map column name, 1.3 the resizing kind, 1.4 the precision, 1.5 the engine, 1.6 the spatial pyramid
        verReadableCur: 0x00010006,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(SpatialFeaturizerTransformer).Assembly.FullName);

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        // int32 batch size, pixel height, pixel width; strings: input and output column names, feature-map column or null;
        // int32 resizing kind; int32 precision; int32 engine; bool spatial pyramid.
        ctx.Writer.Write(BatchSize);
        ctx.Writer.Write(PixelHeight);
        ctx.Writer.Write(PixelWidth);
        ctx.SaveNonEmptyString(InputColumnName);
        ctx.SaveNonEmptyString(OutputColumnName);
        ctx.SaveStringOrNull(FeatureMapColumnName);
        ctx.Writer.Write((int)Resizing);
        ctx.Writer.Write((int)Precision);
        ctx.Writer.Write((int)Engine);
        ctx.Writer.Write(SpatialPyramid);
        ctx.SaveBinaryStream(BackboneStreamName, writer => backbone.Save(writer.BaseStream));
    }

    // Found by ML.NET's component catalog through the LoadableClass attribute above.
    private static SpatialFeaturizerTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(GetVersionInfo());
        int batchSize = ctx.Reader.ReadInt32();
        int pixelHeight = ctx.Reader.ReadInt32();
        int pixelWidth = ctx.Reader.ReadInt32();
        if (batchSize < 1 || pixelHeight < 0 || pixelWidth < 0)
            throw new InvalidDataException($"{Component}: implausible settings in the model (batch {batchSize}, pixels {pixelHeight}×{pixelWidth}).");
        string input = ctx.LoadNonEmptyString();
        string output = ctx.LoadNonEmptyString();
        string? featureMap = ctx.Header.ModelVerWritten >= 0x00010002 ? ctx.LoadStringOrNull() : null;
        // Models written before 1.3 stretched every picture to the square.
        var resizing = ctx.Header.ModelVerWritten >= 0x00010003 ? (ImageResizingEstimator.ResizingKind)ctx.Reader.ReadInt32() : ImageResizingEstimator.ResizingKind.Fill;
        if (!Enum.IsDefined(resizing)) throw new InvalidDataException($"{Component}: unknown resizing kind {(int)resizing} in the model.");
        var precision = ctx.Header.ModelVerWritten >= 0x00010004 ? (ComputePrecision)ctx.Reader.ReadInt32() : ComputePrecision.Float32;
        if (!Enum.IsDefined(precision)) throw new InvalidDataException($"{Component}: unknown precision {(int)precision} in the model.");
        // Models written before 1.5 keep libtorch, so they give exactly the features they gave when saved.
        var engine = ctx.Header.ModelVerWritten >= 0x00010005 ? (FeaturizationEngine)ctx.Reader.ReadInt32() : FeaturizationEngine.LibTorch;
        if (!Enum.IsDefined(engine)) throw new InvalidDataException($"{Component}: unknown engine {(int)engine} in the model.");
        bool spatialPyramid = ctx.Header.ModelVerWritten >= 0x00010006 && ctx.Reader.ReadBoolean();
        SpatialBackbone? loaded = null;
        var environment = env as IHostEnvironmentInternal;
        var device = TrainingDevice.Resolve(null, environment?.GpuDeviceId, fallbackToCpu: true);
        if (!ctx.TryLoadBinaryStream(BackboneStreamName, reader => loaded = SpatialBackbone.Load(reader.BaseStream, device)))
            throw new InvalidDataException($"{Component}: the model has no '{BackboneStreamName}' entry; it was not saved by this library or is damaged.");
        return new SpatialFeaturizerTransformer(loaded!, input, output, batchSize, pixelHeight, pixelWidth, trainingHistory: null, featureMap, resizing, precision, engine, spatialPyramid);
    }
}
