using Microsoft.ML;

namespace SpatialPrediction.ML.MLNet;

/// <summary>
/// The lazy result of <see cref="SpatialFeaturizerTransformer.Transform"/>: the input's columns plus the feature
/// column, computed only for rows and columns a consumer actually reads, in batches when the cursor is not shuffled.
/// </summary>
internal sealed class FeaturizedDataView : IDataView
{
    private readonly SpatialFeaturizerTransformer featurizer;
    private readonly IDataView input;
    private readonly ImageInput imageInput;

    public FeaturizedDataView(SpatialFeaturizerTransformer featurizer, IDataView input)
    {
        this.featurizer = featurizer;
        this.input = input;
        Schema = featurizer.GetOutputSchema(input.Schema);
        imageInput = featurizer.InputFor(input.Schema);
    }

    public DataViewSchema Schema { get; }
    public bool CanShuffle => input.CanShuffle;
    public long? GetRowCount() => input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var (inputColumns, featuresActive, mapActive) = featurizer.InputColumnsFor(input.Schema, columnsNeeded);
        var cursor = input.GetRowCursor(inputColumns, rand);
        FeatureSource? source = !(featuresActive || mapActive) ? null
            : rand is null && featurizer.BatchSize > 1
                ? new BatchedFeatureSource(featurizer, imageInput, input, featurizer.InputColumnName, featurizer.BatchSize, mapActive, featurizer.ReadAhead)
                : new RowFeatureSource(featurizer, imageInput, cursor, mapActive);
        return new FeaturizedCursor(cursor, new FeaturizedRow(Schema, cursor, source, mapActive));
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => new[] { GetRowCursor(columnsNeeded, rand) };
}
