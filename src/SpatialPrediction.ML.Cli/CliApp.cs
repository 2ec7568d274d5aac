using System.CommandLine;
using System.CommandLine.Invocation;

namespace SpatialPrediction.ML.Cli;

/// <summary>
/// The command line, on System.CommandLine (help, tab completion through <c>dotnet-suggest</c>, response files
/// <c>@args.rsp</c>), with one exit-code policy: 0 done, 1 failed with a reason, 2 called wrongly, 130 stopped by Ctrl+C.
/// </summary>
internal static class CliApp
{
    public const int Done = 0, Failed = 1, Usage = 2, Stopped = 130;

    private static readonly string[] CommandNames = { "pretrain", "featurize", "evaluate", "export", "import" };

    /// <summary>The root command with its five commands; <paramref name="cancellation"/> stops a pretraining run.</summary>
    public static RootCommand Create(TextWriter output, CancellationToken cancellation)
    {
        var root = new RootCommand("spatial-prediction — Spatial Prediction self-supervised pretraining for ML.NET")
        {
            PretrainCommand.Create(output, cancellation),
            FeaturizeCommand.Create(output),
            EvaluateCommand.Create(output),
            ExportCommand.Create(output),
            ImportCommand.Create(output),
        };
        return root;
    }

    public static int Run(string[] args, TextWriter output, TextWriter error, CancellationToken cancellation)
    {
        var root = Create(output, cancellation);
        var configuration = new InvocationConfiguration
        {
            Output = output, Error = error,
            // Exceptions reach the policy below, and Ctrl+C is Program's (stop after the step, keep the checkpoint).
            EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null,
        };
        if (args.Length == 0)
        {
            root.Parse("--help").Invoke(configuration);
            return Usage;
        }
        if (!args[0].StartsWith('-') && !args[0].StartsWith('[') && !args[0].StartsWith('@') && !CommandNames.Contains(args[0]))
        {
            error.WriteLine($"error: Unknown command '{args[0]}'. Commands: {string.Join(", ", CommandNames)}.");
            return Usage;
        }
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            // Parse errors print with typo corrections ("Did you mean ...") and no help page, then exit 2.
            if (result.Action is ParseErrorAction parseError)
            {
                parseError.ShowHelp = false;
                parseError.ShowTypoCorrections = true;
            }
            result.Invoke(new InvocationConfiguration { Output = error, Error = error, EnableDefaultExceptionHandler = false });
            return Usage;
        }
        try
        {
            return result.Invoke(configuration);
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

    /// <summary>A required option whose absence is a usage error that names the command.</summary>
    public static Option<string> Required(Command command, string name, string helpName, string description)
    {
        var option = new Option<string>("--" + name) { HelpName = helpName, Description = description };
        command.Options.Add(option);
        command.Validators.Add(result =>
        {
            if (result.GetResult(option) is null)
                result.AddError($"'{command.Name}' needs --{name}. See 'spatial-prediction {command.Name} --help'.");
        });
        return option;
    }
}
