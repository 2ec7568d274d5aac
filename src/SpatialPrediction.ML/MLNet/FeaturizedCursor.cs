using Microsoft.ML;
using Microsoft.ML.Data;

namespace SpatialPrediction.ML.MLNet;

/// <summary>A cursor over a featurised view: moves the input cursor and serves each row through a <see cref="FeaturizedRow"/>.</summary>
internal sealed class FeaturizedCursor(DataViewRowCursor input, FeaturizedRow row) : DataViewRowCursor
{
    public override DataViewSchema Schema => row.Schema;
    public override long Position => input.Position;
    public override long Batch => input.Batch;
    public override bool MoveNext() => input.MoveNext();
    public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();
    public override bool IsColumnActive(DataViewSchema.Column column) => row.IsColumnActive(column);
    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => row.GetGetter<TValue>(column);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            row.Dispose();
            input.Dispose();
        }
        base.Dispose(disposing);
    }
}
