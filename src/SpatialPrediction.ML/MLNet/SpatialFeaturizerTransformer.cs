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
/// Thread-safe: concurrent callers share the backbone, one forward pass at a time. Deliberately not
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

    internal SpatialFeaturizerTransformer(SpatialBackbone backbone, string inputColumnName, string outputColumnName, int batchSize,
        int pixelHeight, int pixelWidth, PretrainingHistory? trainingHistory)
    {
        this.backbone = backbone;
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
    /// <summary>Rows featurised per forward pass when a cursor reads in order.</summary>
    public int BatchSize { get; }
    /// <summary>Height of <c>ExtractPixels</c> vectors (0: square, inferred from the length).</summary>
    public int PixelHeight { get; }
    /// <summary>Width of <c>ExtractPixels</c> vectors (0: square, inferred from the length).</summary>
    public int PixelWidth { get; }
    /// <summary>The frozen backbone (architecture, input size, weights); it can be saved on its own.</summary>
    public SpatialBackbone Backbone => backbone;
    /// <summary>Side in pixels images are resized to before the backbone.</summary>
    public int ImageSize => backbone.ImageSize;
    /// <summary>Length of the feature vector.</summary>
    public int FeatureDimension => backbone.FeatureDimension;
    /// <summary>Losses and timings of the pretraining run that produced this featuriser; null when it was loaded or not trained here.</summary>
    public PretrainingHistory? TrainingHistory { get; }

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

    /// <summary>Features of one image.</summary>
    public float[] Featurize(MLImage image) => backbone.Featurize(image);

    internal ImageInput InputFor(DataViewSchema schema) => ImageInput.For(schema, InputColumnName, ImageSize, PixelHeight, PixelWidth, Component);

    /// <summary>Featurises planar RGB images (each 3·S·S bytes) into <paramref name="destination"/>, row after row.</summary>
    internal void FeaturizeInto(IReadOnlyList<byte[]> images, Span<float> destination)
    {
        int plane = 3 * ImageSize * ImageSize;
        var all = new byte[images.Count * plane];
        for (int i = 0; i < images.Count; i++) images[i].CopyTo(all, i * plane);
        using var scope = NewDisposeScope();
        var batch = tensor(all, new long[] { images.Count, 3, ImageSize, ImageSize }, dtype: ScalarType.Byte)
            .to_type(ScalarType.Float32).div_(255f);
        backbone.FeaturizeBatch(batch).CopyTo(destination);
    }

    /// <summary>
    /// The input columns needed to serve <paramref name="requested"/> output columns, and whether the feature column is
    /// among them (it needs the image column).
    /// </summary>
    internal (IEnumerable<DataViewSchema.Column> Input, bool FeaturesActive) InputColumnsFor(
        DataViewSchema inputSchema, DataViewSchema outputSchema, IEnumerable<DataViewSchema.Column> requested)
    {
        int featureIndex = outputSchema.Count - 1;
        bool featuresActive = false;
        var needed = new HashSet<int>();
        foreach (var column in requested)
        {
            if (column.Index == featureIndex) featuresActive = true;
            else needed.Add(column.Index);
        }
        if (featuresActive) needed.Add(inputSchema[InputColumnName].Index);
        return (needed.OrderBy(i => i).Select(i => inputSchema[i]).ToList(), featuresActive);
    }

    // ---- ML.NET model zip: the layout ML.NET's own transforms use, with the backbone file as a binary stream ----

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "SPFEATUR",
        verWrittenCur: 0x00010001,
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(SpatialFeaturizerTransformer).Assembly.FullName);

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        // int32 batch size, pixel height, pixel width; strings: input and output column names.
        ctx.Writer.Write(BatchSize);
        ctx.Writer.Write(PixelHeight);
        ctx.Writer.Write(PixelWidth);
        ctx.SaveNonEmptyString(InputColumnName);
        ctx.SaveNonEmptyString(OutputColumnName);
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
        SpatialBackbone? loaded = null;
        var environment = env as IHostEnvironmentInternal;
        var device = TrainingDevice.Resolve(null, environment?.GpuDeviceId, fallbackToCpu: true);
        if (!ctx.TryLoadBinaryStream(BackboneStreamName, reader => loaded = SpatialBackbone.Load(reader.BaseStream, device)))
            throw new InvalidDataException($"{Component}: the model has no '{BackboneStreamName}' entry; it was not saved by this library or is damaged.");
        return new SpatialFeaturizerTransformer(loaded!, input, output, batchSize, pixelHeight, pixelWidth, trainingHistory: null);
    }
}
