using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.MLNet;
using SpatialPrediction.ML.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML;

/// <summary>
/// A frozen backbone as an ML.NET transformer: maps an image column (<see cref="MLImage"/>) to a vector of
/// <c>float</c> features. Rows are featurised lazily as a consumer reads them. For trainers that make several passes
/// (L-BFGS, SDCA), put <c>AppendCacheCheckpoint</c> after it so each image is featurised once.
/// </summary>
/// <remarks>Thread-safe: concurrent calls featurise one image at a time on the backbone.</remarks>
public sealed class SpatialFeaturizerTransformer : ITransformer, IDisposable
{
    private const string Component = nameof(SpatialFeaturizerTransformer);
    private readonly BackboneModule backbone;
    private readonly Device device;
    private readonly object forwardLock = new();
    private bool disposed;

    internal SpatialFeaturizerTransformer(BackboneModule backbone, int imageSize, string inputColumnName, string outputColumnName,
        Device device, PretrainingHistory? trainingHistory)
    {
        this.backbone = backbone;
        this.device = device;
        backbone.eval();
        ImageSize = imageSize;
        InputColumnName = inputColumnName;
        OutputColumnName = outputColumnName;
        TrainingHistory = trainingHistory;
    }

    /// <summary>Image column read.</summary>
    public string InputColumnName { get; }
    /// <summary>Feature column written.</summary>
    public string OutputColumnName { get; }
    /// <summary>Side in pixels images are resized to before the backbone.</summary>
    public int ImageSize { get; }
    /// <summary>Length of the feature vector.</summary>
    public int FeatureDimension => backbone.FeatureDimension;
    /// <summary>The backbone architecture.</summary>
    public BackboneKind Backbone => backbone.Kind;
    /// <summary>Losses and timings of the pretraining run that produced this featuriser; null if it was not trained here.</summary>
    public PretrainingHistory? TrainingHistory { get; }

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ImageColumn.Check(inputSchema, InputColumnName, Component);
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
    public float[] Featurize(MLImage image)
    {
        var features = new float[FeatureDimension];
        FeaturizeInto(image, -1, features);
        return features;
    }

    void ICanSaveModel.Save(ModelSaveContext ctx)
        => throw new NotSupportedException(
            "Saving a SpatialFeaturizerTransformer inside an ML.NET model zip is not supported in this version.");

    /// <summary>Releases the backbone's native memory.</summary>
    public void Dispose()
    {
        lock (forwardLock)
        {
            if (disposed) return;
            disposed = true;
            backbone.Dispose();
        }
    }

    internal void FeaturizeInto(MLImage image, long row, Span<float> destination)
    {
        lock (forwardLock)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var input = ImageColumn.ToTensor(image, ImageSize, device, InputColumnName, row, Component);
            var features = backbone.forward(input).to(CPU);
            features.data<float>().CopyTo(destination);
        }
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
}
