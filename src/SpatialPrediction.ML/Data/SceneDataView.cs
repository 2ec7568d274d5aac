using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace SpatialPrediction.ML.Data;

/// <summary>
/// An in-memory <see cref="IDataView"/> over rendered scenes with columns <c>Image</c> (<see cref="ImageDataViewType"/>
/// of the scenes' size) and <c>Label</c> (<see cref="int"/>). ML.NET's <c>LoadFromEnumerable</c> can only type an
/// <see cref="MLImage"/> member with a size fixed at compile time, hence this small view. Each read of an image
/// builds a fresh <see cref="MLImage"/> that the reader owns.
/// </summary>
internal sealed class SceneDataView : IDataView
{
    private readonly IReadOnlyList<SceneImage> scenes;

    public SceneDataView(IReadOnlyList<SceneImage> scenes, int width, int height)
    {
        this.scenes = scenes;
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("Image", new ImageDataViewType(height, width));
        builder.AddColumn("Label", NumberDataViewType.Int32);
        Schema = builder.ToSchema();
    }

    public DataViewSchema Schema { get; }
    public bool CanShuffle => true;
    public long? GetRowCount() => scenes.Count;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var active = columnsNeeded.Select(c => c.Index).ToHashSet();
        int[] order = Enumerable.Range(0, scenes.Count).ToArray();
        if (rand is not null) rand.Shuffle(order);
        return new Cursor(this, active, order);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => new[] { GetRowCursor(columnsNeeded, rand) };

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly SceneDataView view;
        private readonly HashSet<int> active;
        private readonly int[] order;
        private long position = -1;

        public Cursor(SceneDataView view, HashSet<int> active, int[] order)
        {
            this.view = view;
            this.active = active;
            this.order = order;
        }

        public override DataViewSchema Schema => view.Schema;
        public override long Position => position;
        public override long Batch => 0;
        private SceneImage Current => view.scenes[order[position]];

        public override bool MoveNext()
        {
            if (position + 1 >= order.Length)
            {
                position = order.Length;
                return false;
            }
            position++;
            return true;
        }

        public override bool IsColumnActive(DataViewSchema.Column column) => active.Contains(column.Index);

        public override ValueGetter<DataViewRowId> GetIdGetter()
            => (ref DataViewRowId id) => id = new DataViewRowId((ulong)order[position], 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when this cursor was created.");
            Delegate getter = column.Index switch
            {
                0 when typeof(TValue) == typeof(MLImage) => (ValueGetter<MLImage>)((ref MLImage value) => { value?.Dispose(); value = SpatialScenes.ToMLImage(Current); }),
                1 when typeof(TValue) == typeof(int) => (ValueGetter<int>)((ref int value) => value = Current.Label),
                _ => throw new InvalidOperationException(
                    $"Column '{column.Name}' holds {column.Type}; a getter of {typeof(TValue).Name} was requested."),
            };
            return (ValueGetter<TValue>)getter;
        }
    }
}
