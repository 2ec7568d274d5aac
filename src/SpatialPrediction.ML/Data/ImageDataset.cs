using CsvHelper;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace SpatialPrediction.ML.Data;

/// <summary>One image file and its label.</summary>
/// <param name="Path">Full path of the file.</param>
/// <param name="Label">Class name.</param>
public sealed record ImageEntry(string Path, string Label);

/// <summary>A file that could not be used, and why.</summary>
/// <param name="Path">Full path of the file.</param>
/// <param name="Reason">What went wrong (missing, unreadable, not an image).</param>
public sealed record UnreadableImage(string Path, string Reason);

/// <summary>
/// A labelled set of image files on disk: a folder with one sub-folder per class, or a CSV of <c>path,label</c>. Files
/// are decoded when a consumer reads them; <see cref="Check"/> decodes all of them once up front and reports, by path,
/// every file that cannot be used.
/// </summary>
/// <example>
/// <code>
/// var dataset = ImageDataset.FromFolder("photos");            // photos/cat/*.jpg, photos/dog/*.png, ...
/// var check = dataset.Check();                                 // check.Unreadable lists bad files with reasons
/// IDataView data = check.Readable.ToDataView(mlContext);       // columns ImagePath, Label, Image (MLImage)
/// </code>
/// </example>
public sealed class ImageDataset
{
    /// <summary>File extensions taken as images (case-insensitive).</summary>
    public static IReadOnlyList<string> ImageExtensions { get; } = new[] { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp" };

    /// <summary>Wraps entries.</summary>
    public ImageDataset(IReadOnlyList<ImageEntry> entries, IReadOnlyList<string>? emptyClasses = null)
    {
        Entries = entries;
        ClassNames = entries.Select(e => e.Label).Distinct().OrderBy(l => l, StringComparer.Ordinal).ToList();
        EmptyClasses = emptyClasses ?? Array.Empty<string>();
    }

    /// <summary>Class folders that held no image file (they are not classes of this set; listed so they are not missed).</summary>
    public IReadOnlyList<string> EmptyClasses { get; }

    /// <summary>The files and labels.</summary>
    public IReadOnlyList<ImageEntry> Entries { get; }
    /// <summary>Distinct labels in ordinal order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Every image file in the sub-folders of <paramref name="root"/>, labelled by sub-folder name.</summary>
    public static ImageDataset FromFolder(string root)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"Image folder '{root}' does not exist.");
        var entries = new List<ImageEntry>();
        var emptyClasses = new List<string>();
        foreach (var folder in Directory.GetDirectories(root).OrderBy(d => d, StringComparer.Ordinal))
        {
            string label = System.IO.Path.GetFileName(folder);
            var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                .Where(IsImageFile).OrderBy(f => f, StringComparer.Ordinal)
                .Select(f => new ImageEntry(System.IO.Path.GetFullPath(f), label)).ToList();
            if (files.Count == 0) emptyClasses.Add(label);
            entries.AddRange(files);
        }
        if (entries.Count == 0)
            throw new InvalidDataException($"Image folder '{root}' has no images in class sub-folders (expected {root}/<class>/<image>, extensions {string.Join(" ", ImageExtensions)}).");
        return new ImageDataset(entries, emptyClasses);
    }

    /// <summary>
    /// The rows of a CSV with a header and two columns, path and label (fields may be double-quoted); relative paths
    /// are resolved against the CSV's folder.
    /// </summary>
    public static ImageDataset FromCsv(string csvPath)
    {
        if (!File.Exists(csvPath)) throw new FileNotFoundException($"CSV file '{csvPath}' does not exist.", csvPath);
        string folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(csvPath))!;
        var entries = new List<ImageEntry>();
        using (var reader = CsvReader.FromFile(csvPath, new CsvReaderOptions { Separator = ',', HasHeader = true, TrimWhitespace = true, TrackLineNumbers = true }))
        {
            _ = reader.Headers;
            while (reader.Read())
            {
                var fields = Enumerable.Range(0, reader.FieldCount).Select(reader.GetString).ToList();
                if (fields.Count != 2 || fields[0].Length == 0 || fields[1].Length == 0)
                    throw new InvalidDataException($"{csvPath}, line {reader.LineNumber}: expected two non-empty fields 'path,label', found {fields.Count} field(s): \"{string.Join(",", fields)}\".");
                entries.Add(new ImageEntry(System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, fields[0])), fields[1]));
            }
        }
        if (entries.Count == 0) throw new InvalidDataException($"{csvPath} has no rows after its header.");
        return new ImageDataset(entries);
    }

    /// <summary>Decodes every file once (in parallel) and splits the set into readable entries and unreadable files.</summary>
    /// <returns><c>Readable</c>: the entries that decoded; <c>Unreadable</c>: the others, each with its reason.</returns>
    public (ImageDataset Readable, IReadOnlyList<UnreadableImage> Unreadable) Check()
    {
        var problems = new string?[Entries.Count];
        Parallel.For(0, Entries.Count, i =>
        {
            try
            {
                using var image = Decode(Entries[i].Path);
            }
            catch (InvalidDataException e)
            {
                problems[i] = e.Message;
            }
        });
        var readable = Entries.Where((_, i) => problems[i] is null).ToList();
        var unreadable = Entries.Select((e, i) => (e, i)).Where(p => problems[p.i] is not null)
            .Select(p => new UnreadableImage(p.e.Path, problems[p.i]!)).ToList();
        return (new ImageDataset(readable), unreadable);
    }

    /// <summary>
    /// An <see cref="IDataView"/> with columns <c>ImagePath</c> (text), <c>Label</c> (text) and <c>Image</c>
    /// (<see cref="MLImage"/>, decoded when read; a file that fails then raises an error naming it).
    /// </summary>
    public IDataView ToDataView(MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new ImageFileDataView(Entries);
    }

    /// <summary>Decodes one file, or explains why it cannot be (see <see cref="ImageDecoder"/>).</summary>
    public static MLImage Decode(string path) => ImageDecoder.DecodeFile(path);

    private static bool IsImageFile(string path)
        => ImageExtensions.Contains(System.IO.Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>The view behind <see cref="ToDataView"/>.</summary>
    private sealed class ImageFileDataView : IDataView, IImageFileRows
    {
        private readonly IReadOnlyList<ImageEntry> entries;

        public IReadOnlyList<string> ImagePaths => entries.Select(e => e.Path).ToList();
        public string ImageColumnName => "Image";

        public ImageFileDataView(IReadOnlyList<ImageEntry> entries)
        {
            this.entries = entries;
            var builder = new DataViewSchema.Builder();
            builder.AddColumn("ImagePath", TextDataViewType.Instance);
            builder.AddColumn("Label", TextDataViewType.Instance);
            builder.AddColumn("Image", new ImageDataViewType());
            Schema = builder.ToSchema();
        }

        public DataViewSchema Schema { get; }
        public bool CanShuffle => true;
        public long? GetRowCount() => entries.Count;

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        {
            int[] order = Enumerable.Range(0, entries.Count).ToArray();
            if (rand is not null) rand.Shuffle(order);
            return new Cursor(this, columnsNeeded.Select(c => c.Index).ToHashSet(), order);
        }

        /// <summary>Up to <paramref name="n"/> cursors over interleaved rows, so that files decode on several threads; row ids are the rows' indices.</summary>
        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        {
            int[] order = Enumerable.Range(0, entries.Count).ToArray();
            if (rand is not null) rand.Shuffle(order);
            n = Math.Clamp(n, 1, Math.Max(1, entries.Count));
            var active = columnsNeeded.Select(c => c.Index).ToHashSet();
            return Enumerable.Range(0, n).Select(k => (DataViewRowCursor)new Cursor(this, active, order.Where((_, i) => i % n == k).ToArray())).ToArray();
        }

        private sealed class Cursor(ImageFileDataView view, HashSet<int> active, int[] order) : DataViewRowCursor
        {
            private long position = -1;

            public override DataViewSchema Schema => view.Schema;
            public override long Position => position;
            public override long Batch => 0;
            private ImageEntry Current => view.entries[order[position]];
            public override bool MoveNext() => ++position < order.Length;
            public override bool IsColumnActive(DataViewSchema.Column column) => active.Contains(column.Index);
            public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)order[position], 0);

            public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
            {
                if (!IsColumnActive(column)) throw new InvalidOperationException($"Column '{column.Name}' was not requested when this cursor was created.");
                Delegate getter = column.Index switch
                {
                    0 when typeof(TValue) == typeof(ReadOnlyMemory<char>) => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> v) => v = Current.Path.AsMemory()),
                    1 when typeof(TValue) == typeof(ReadOnlyMemory<char>) => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> v) => v = Current.Label.AsMemory()),
                    // Like ML.NET's LoadImages: the previous image in the buffer is released when the next one is read.
                    2 when typeof(TValue) == typeof(MLImage) => (ValueGetter<MLImage>)((ref MLImage v) => { v?.Dispose(); v = Decode(Current.Path); }),
                    _ => throw new InvalidOperationException($"Column '{column.Name}' holds {column.Type}; a getter of {typeof(TValue).Name} was requested."),
                };
                return (ValueGetter<TValue>)getter;
            }
        }
    }
}
