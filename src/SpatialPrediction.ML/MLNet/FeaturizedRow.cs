using Microsoft.ML;
using Microsoft.ML.Data;

namespace SpatialPrediction.ML.MLNet;

/// <summary>
/// A row of a featurised view: every input column passes through unchanged; the output columns (pooled features, and
/// the feature map when configured) come from a <see cref="FeatureSource"/>. The input row stays its owner's to
/// dispose; the feature source is this row's.
/// </summary>
internal sealed class FeaturizedRow : DataViewRow
{
    private readonly DataViewRow input;
    private readonly DataViewSchema schema;
    private readonly int firstOutput;
    private readonly FeatureSource? source;
    private readonly bool mapActive;

    public FeaturizedRow(DataViewSchema schema, DataViewRow input, FeatureSource? source, bool mapActive)
    {
        this.input = input;
        this.schema = schema;
        this.source = source;
        this.mapActive = mapActive;
        firstOutput = input.Schema.Count;
    }

    public override DataViewSchema Schema => schema;
    public override long Position => input.Position;
    public override long Batch => input.Batch;
    public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

    public override bool IsColumnActive(DataViewSchema.Column column)
        => column.Index < firstOutput ? input.IsColumnActive(input.Schema[column.Index])
            : column.Index == firstOutput ? source is not null : mapActive;

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        if (column.Index < firstOutput) return input.GetGetter<TValue>(input.Schema[column.Index]);
        if (!IsColumnActive(column))
            throw new InvalidOperationException($"Column '{column.Name}' was not requested when this cursor was created.");
        if (typeof(TValue) != typeof(VBuffer<float>))
            throw new InvalidOperationException($"Column '{column.Name}' holds VBuffer<float> ({column.Type}); a getter of {typeof(TValue).Name} was requested.");
        ValueGetter<VBuffer<float>> getter = column.Index == firstOutput
            ? (ref VBuffer<float> destination) => Copy(source!.At(input.Position), ref destination)
            : (ref VBuffer<float> destination) => Copy(source!.MapAt(input.Position), ref destination);
        return (ValueGetter<TValue>)(Delegate)getter;
    }

    private static void Copy(ReadOnlySpan<float> values, ref VBuffer<float> destination)
    {
        var editor = VBufferEditor.Create(ref destination, values.Length);
        values.CopyTo(editor.Values);
        destination = editor.Commit();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) source?.Dispose();
        base.Dispose(disposing);
    }
}
