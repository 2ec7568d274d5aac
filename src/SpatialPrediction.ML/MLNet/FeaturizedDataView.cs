using Microsoft.ML;
using Microsoft.ML.Data;

namespace SpatialPrediction.ML.MLNet;

/// <summary>
/// The lazy result of <see cref="SpatialFeaturizerTransformer.Transform"/>: the input's columns plus the feature
/// column, computed only for rows and columns a consumer actually reads.
/// </summary>
internal sealed class FeaturizedDataView : IDataView
{
    private readonly SpatialFeaturizerTransformer featurizer;
    private readonly IDataView input;

    public FeaturizedDataView(SpatialFeaturizerTransformer featurizer, IDataView input)
    {
        this.featurizer = featurizer;
        this.input = input;
        Schema = featurizer.GetOutputSchema(input.Schema);
    }

    public DataViewSchema Schema { get; }
    public bool CanShuffle => input.CanShuffle;
    public long? GetRowCount() => input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var (inputColumns, featuresActive) = featurizer.InputColumnsFor(input.Schema, Schema, columnsNeeded);
        return new FeaturizedCursor(featurizer, Schema, input.GetRowCursor(inputColumns, rand), featuresActive);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => new[] { GetRowCursor(columnsNeeded, rand) };
}
