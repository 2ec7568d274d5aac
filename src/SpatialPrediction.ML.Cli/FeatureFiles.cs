using System.Globalization;
using Parquet;
using Parquet.Schema;
using SpatialPrediction.ML.Data;

namespace SpatialPrediction.ML.Cli;

/// <summary>
/// The files <c>featurize</c> writes: columns <c>path</c>, <c>label</c>, then one float column <c>f0 … fN−1</c> per
/// feature, in Parquet (Parquet.Net) or CSV. Written to a temporary file and moved into place, so a failure never leaves
/// half a file under the requested name.
/// </summary>
internal static class FeatureFiles
{
    public static FeatureFileFormat FormatOf(string path)
        => path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? FeatureFileFormat.Csv : FeatureFileFormat.Parquet;

    public static void Write(string path, FeatureFileFormat format, IReadOnlyList<ImageEntry> entries, IReadOnlyList<float[]> features)
    {
        string temporary = path + ".tmp";
        try
        {
            if (format == FeatureFileFormat.Csv) WriteCsv(temporary, entries, features);
            else WriteParquetAsync(temporary, entries, features).GetAwaiter().GetResult();
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Reads a Parquet file that <see cref="Write"/> wrote: the paths, labels and feature rows.</summary>
    public static async Task<(string[] Paths, string[] Labels, float[][] Features)> ReadParquetAsync(string path)
    {
        await using var reader = await ParquetReader.CreateAsync(path);
        var fields = reader.Schema.GetDataFields();
        var paths = new List<string>();
        var labels = new List<string>();
        var columns = new List<float>[fields.Length - 2];
        for (int c = 0; c < columns.Length; c++) columns[c] = new List<float>();
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            int rows = checked((int)group.RowCount);
            var text = new string?[rows];
            await group.ReadAsync(fields[0], text.AsMemory());
            paths.AddRange(text.Select(t => t ?? ""));
            await group.ReadAsync(fields[1], text.AsMemory());
            labels.AddRange(text.Select(t => t ?? ""));
            var values = new float[rows];
            for (int c = 0; c < columns.Length; c++)
            {
                await group.ReadAsync(fields[c + 2], values.AsMemory());
                columns[c].AddRange(values);
            }
        }
        var features = Enumerable.Range(0, paths.Count).Select(r => columns.Select(c => c[r]).ToArray()).ToArray();
        return (paths.ToArray(), labels.ToArray(), features);
    }

    private static async Task WriteParquetAsync(string path, IReadOnlyList<ImageEntry> entries, IReadOnlyList<float[]> features)
    {
        int width = features.Count > 0 ? features[0].Length : 0;
        var pathField = new DataField<string>("path");
        var labelField = new DataField<string>("label");
        var featureFields = Enumerable.Range(0, width).Select(i => new DataField<float>($"f{i}")).ToArray();
        var schema = new ParquetSchema(new Field[] { pathField, labelField }.Concat(featureFields));
        await using var stream = File.Create(path);
        await using var writer = await ParquetWriter.CreateAsync(schema, stream);
        using var group = writer.CreateRowGroup();
        await group.WriteAsync(pathField, entries.Select(e => e.Path).ToList());
        await group.WriteAsync(labelField, entries.Select(e => e.Label).ToList());
        var column = new float[features.Count];
        for (int f = 0; f < width; f++)
        {
            for (int r = 0; r < features.Count; r++) column[r] = features[r][f];
            await group.WriteAsync<float>(featureFields[f], column.AsMemory());
        }
    }

    private static void WriteCsv(string path, IReadOnlyList<ImageEntry> entries, IReadOnlyList<float[]> features)
    {
        using var writer = new StreamWriter(path);
        writer.WriteLine("path,label," + string.Join(",", Enumerable.Range(0, features.FirstOrDefault()?.Length ?? 0).Select(i => $"f{i}")));
        for (int i = 0; i < features.Count; i++)
            writer.WriteLine($"{Quote(entries[i].Path)},{Quote(entries[i].Label)}," + string.Join(",", features[i].Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
    }

    private static string Quote(string text) => "\"" + text.Replace("\"", "\"\"") + "\"";
}
