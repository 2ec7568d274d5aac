using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace SpatialPrediction.ML.Evaluation;

/// <summary>A one-column in-memory view over images, to push patches and tiles through any ML.NET featuriser.</summary>
internal sealed class ImageListDataView : IDataView
{
    private readonly IReadOnlyList<MLImage> images;

    public ImageListDataView(IReadOnlyList<MLImage> images, string columnName)
    {
        this.images = images;
        var builder = new DataViewSchema.Builder();
        int height = images.Count > 0 && images.All(i => i.Height == images[0].Height) ? images[0].Height : 0;
        int width = images.Count > 0 && images.All(i => i.Width == images[0].Width) ? images[0].Width : 0;
        builder.AddColumn(columnName, height > 0 && width > 0 ? new ImageDataViewType(height, width) : new ImageDataViewType());
        Schema = builder.ToSchema();
    }

    public DataViewSchema Schema { get; }
    public bool CanShuffle => false;
    public long? GetRowCount() => images.Count;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        => new Cursor(this, columnsNeeded.Any());

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => new[] { GetRowCursor(columnsNeeded, rand) };

    private sealed class Cursor(ImageListDataView view, bool active) : DataViewRowCursor
    {
        private long position = -1;

        public override DataViewSchema Schema => view.Schema;
        public override long Position => position;
        public override long Batch => 0;
        public override bool MoveNext() => ++position < view.images.Count;
        public override bool IsColumnActive(DataViewSchema.Column column) => active;
        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (typeof(TValue) != typeof(MLImage))
                throw new InvalidOperationException($"Column '{column.Name}' holds MLImage; a getter of {typeof(TValue).Name} was requested.");
            ValueGetter<MLImage> getter = (ref MLImage value) => value = view.images[(int)position];
            return (ValueGetter<TValue>)(Delegate)getter;
        }
    }
}
