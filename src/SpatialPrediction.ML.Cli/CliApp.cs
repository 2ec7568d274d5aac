namespace SpatialPrediction.ML.Cli;

/// <summary>The command line: dispatch, help, and one exit-code policy (0 done, 1 failed with a reason, 2 called wrongly, 130 stopped by Ctrl+C).</summary>
internal static class CliApp
{
    public const int Done = 0, Failed = 1, Usage = 2, Stopped = 130;

    private const string Overview = """
        spatial-prediction — Spatial Prediction self-supervised pretraining for ML.NET

        Commands:
          pretrain   train a featuriser on an image folder or CSV and save it as an ML.NET model zip
          featurize  write the features of images as CSV
          evaluate   linear probe, k-NN and the two spatial tests on a train/test split → Markdown report
          export     write the backbone of a model as ONNX and/or safetensors

        'spatial-prediction <command> --help' lists a command's options.
        """;

    public static int Run(string[] args, TextWriter output, TextWriter error, CancellationToken cancellation)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            output.WriteLine(Overview);
            return args.Length == 0 ? Usage : Done;
        }
        var rest = args.Skip(1).ToList();
        bool help = rest.Contains("--help") || rest.Contains("-h");
        try
        {
            return args[0] switch
            {
                "pretrain" => help ? Help(output, PretrainCommand.Help()) : PretrainCommand.Run(rest, output, cancellation),
                "featurize" => help ? Help(output, FeaturizeCommand.Help) : FeaturizeCommand.Run(rest, output),
                "evaluate" => help ? Help(output, EvaluateCommand.Help) : EvaluateCommand.Run(rest, output),
                "export" => help ? Help(output, ExportCommand.Help) : ExportCommand.Run(rest, output),
                _ => throw new UsageException($"Unknown command '{args[0]}'. Commands: pretrain, featurize, evaluate, export."),
            };
        }
        catch (UsageException e)
        {
            error.WriteLine($"error: {e.Message}");
            return Usage;
        }
        catch (OperationCanceledException e)
        {
            error.WriteLine($"stopped: {e.Message} Run the same command with --resume to continue.");
            return Stopped;
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            // The library's errors already say which file, row or option and what was expected.
            error.WriteLine($"error: {e.Message}");
            return Failed;
        }
    }

    private static int Help(TextWriter output, string text)
    {
        output.WriteLine(text);
        return Done;
    }
}
