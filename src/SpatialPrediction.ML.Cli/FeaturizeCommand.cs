using System.CommandLine;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace SpatialPrediction.ML.Cli;

/// <summary><c>featurize --model model.zip --data DIR|CSV --out features.parquet|features.csv [--format parquet|csv]</c>.</summary>
internal static class FeaturizeCommand
{
    public static Command Create(TextWriter output)
    {
        var command = new Command("featurize",
            "Writes one row per image: path, label, then the features f0, f1, ... of the model's \"Features\" column, as Parquet " +
            "(pandas, Spark, DuckDB, ML.NET's DataFrame read it) or CSV.");
        var model = CliApp.Required(command, "model", "model.zip", "An ML.NET model zip holding a SpatialPrediction featuriser.");
        var data = CliApp.Required(command, "data", "folder|file.csv", "Images: one sub-folder per class, or a CSV of path,label.");
        var outPath = CliApp.Required(command, "out", "features.parquet", "Where the features are written.");
        var format = new Option<FeatureFileFormat?>("--format") { Description = "File format (default: from the extension of --out; Parquet unless it is .csv)." };
        var skip = ImageSource.SkipOption();
        command.Options.Add(format);
        command.Options.Add(skip);
        command.SetAction(result => Run(output, result.GetValue(model)!, result.GetValue(data)!, result.GetValue(outPath)!,
            result.GetValue(format) ?? FeatureFiles.FormatOf(result.GetValue(outPath)!), result.GetValue(skip)));
        return command;
    }

    private static int Run(TextWriter output, string modelPath, string dataPath, string outPath, FeatureFileFormat format, bool skipUnreadable)
    {
        var mlContext = new MLContext(1);
        var model = ModelFile.Load(mlContext, modelPath);
        var dataset = ImageSource.OpenReadable(dataPath, skipUnreadable, output);
        var features = model.Transform(dataset.ToDataView(mlContext)).GetColumn<float[]>("Features").ToList();
        FeatureFiles.Write(outPath, format, dataset.Entries, features);
        output.WriteLine($"Wrote {features.Count} rows of {features.FirstOrDefault()?.Length ?? 0} features to {outPath} ({format}).");
        return CliApp.Done;
    }
}
