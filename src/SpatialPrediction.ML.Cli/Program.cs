using System.Globalization;
using SpatialPrediction.ML.Cli;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C stops training after the current step and leaves a checkpoint; a second one ends the process.
    if (cancellation.IsCancellationRequested) return;
    e.Cancel = true;
    Console.Error.WriteLine("Stopping after this step (a checkpoint is written); press Ctrl+C again to end at once.");
    cancellation.Cancel();
};
return CliApp.Run(args, Console.Out, Console.Error, cancellation.Token);
