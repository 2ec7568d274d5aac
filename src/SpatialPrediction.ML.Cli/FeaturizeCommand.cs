using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace SpatialPrediction.ML.Cli;

/// <summary><c>featurize --model model.zip --data DIR|CSV --out features.csv</c>.</summary>
internal static class FeaturizeCommand
{
    public const string Help = """
        spatial-prediction featurize --model <model.zip> --data <folder|file.csv> --out <features.csv>

        Writes one CSV row per image: path, label, then the features f0, f1, ... of the model's "Features" column.
        """;

    public static int Run(IReadOnlyList<string> args, TextWriter output)
    {
        var arguments = CommandArguments.Parse("featurize", args, new HashSet<string> { "model", "data", "out" }, new HashSet<string>());
        string modelPath = arguments.Required("model"), outPath = arguments.Required("out");
        var mlContext = new MLContext(1);
        var model = ModelFile.Load(mlContext, modelPath);
        var dataset = ImageSource.Open(arguments.Required("data"));
        var transformed = model.Transform(dataset.ToDataView(mlContext));
        var features = transformed.GetColumn<float[]>("Features").ToList();
        string temporary = outPath + ".tmp";
        using (var writer = new StreamWriter(temporary))
        {
            writer.WriteLine("path,label," + string.Join(",", Enumerable.Range(0, features.FirstOrDefault()?.Length ?? 0).Select(i => $"f{i}")));
            for (int i = 0; i < features.Count; i++)
            {
                var entry = dataset.Entries[i];
                writer.WriteLine($"{Quote(entry.Path)},{Quote(entry.Label)}," + string.Join(",", features[i].Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
            }
        }
        File.Move(temporary, outPath, overwrite: true);
        output.WriteLine($"Wrote {features.Count} rows of {features.FirstOrDefault()?.Length ?? 0} features to {outPath}.");
        return CliApp.Done;
    }

    private static string Quote(string text) => "\"" + text.Replace("\"", "\"\"") + "\"";
}
