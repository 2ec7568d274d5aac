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
        => featurizer.InputColumnsFor(InputSchema, OutputSchema, dependingColumns).Input;

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        bool featuresActive = activeColumns.Any(c => c.Index == OutputSchema.Count - 1);
        return new FeaturizedRow(OutputSchema, input, featurizer.FeatureDimension,
            featuresActive ? new RowFeatureSource(featurizer, imageInput, input) : null);
    }
}
