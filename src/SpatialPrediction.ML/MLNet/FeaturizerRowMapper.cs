using Microsoft.ML;
using Microsoft.ML.Data;

namespace SpatialPrediction.ML.MLNet;

/// <summary>Row-to-row form of the featuriser, used by prediction engines and by ML.NET's chaining of transformers.</summary>
internal sealed class FeaturizerRowMapper : IRowToRowMapper
{
    private readonly SpatialFeaturizerTransformer featurizer;
    private readonly ImageInput imageInput;

    public FeaturizerRowMapper(SpatialFeaturizerTransformer featurizer, DataViewSchema inputSchema)
    {
        this.featurizer = featurizer;
        InputSchema = inputSchema;
        OutputSchema = featurizer.GetOutputSchema(inputSchema);
        imageInput = featurizer.InputFor(inputSchema);
    }

    public DataViewSchema InputSchema { get; }
    public DataViewSchema OutputSchema { get; }

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
        => featurizer.InputColumnsFor(InputSchema, dependingColumns).Input;

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        var (_, featuresActive, mapActive) = featurizer.InputColumnsFor(InputSchema, activeColumns);
        var source = featuresActive || mapActive ? new RowFeatureSource(featurizer, imageInput, input, mapActive) : null;
        return new FeaturizedRow(OutputSchema, input, source, mapActive);
    }
}
