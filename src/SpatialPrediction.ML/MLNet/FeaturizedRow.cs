using Microsoft.ML;
using Microsoft.ML.Data;

namespace SpatialPrediction.ML.MLNet;

/// <summary>
/// A row of a featurised view: every input column passes through unchanged; the feature column comes from a
/// <see cref="FeatureSource"/>. The input row stays its owner's to dispose; the feature source is this row's.
/// </summary>
internal sealed class FeaturizedRow : DataViewRow
{
    private readonly DataViewRow input;
    private readonly DataViewSchema schema;
    private readonly int featureColumnIndex, dimension;
    private readonly FeatureSource? source;

    public FeaturizedRow(DataViewSchema schema, DataViewRow input, int dimension, FeatureSource? source)
    {
        this.input = input;
        this.schema = schema;
        this.dimension = dimension;
        this.source = source;
        featureColumnIndex = schema.Count - 1;
    }

    public override DataViewSchema Schema => schema;
    public override long Position => input.Position;
    public override long Batch => input.Batch;
    public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

    public override bool IsColumnActive(DataViewSchema.Column column)
        => column.Index == featureColumnIndex ? source is not null : input.IsColumnActive(input.Schema[column.Index]);

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        if (column.Index != featureColumnIndex) return input.GetGetter<TValue>(input.Schema[column.Index]);
        if (source is null)
            throw new InvalidOperationException($"Column '{column.Name}' was not requested when this cursor was created.");
        if (typeof(TValue) != typeof(VBuffer<float>))
            throw new InvalidOperationException(
                $"Column '{column.Name}' holds VBuffer<float> (vector of {dimension} floats); a getter of {typeof(TValue).Name} was requested.");
        ValueGetter<VBuffer<float>> getter = GetFeatures;
        return (ValueGetter<TValue>)(Delegate)getter;
    }

    private void GetFeatures(ref VBuffer<float> destination)
    {
        var features = source!.At(input.Position);
        var editor = VBufferEditor.Create(ref destination, features.Length);
        features.CopyTo(editor.Values);
        destination = editor.Commit();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) source?.Dispose();
        base.Dispose(disposing);
    }
}
