namespace SpatialPrediction.ML.Training;

/// <summary>
/// Pretraining progress for console apps: a bar with step, epoch, losses, throughput and time left, redrawn in place on
/// a terminal and printed as a line every tenth of the run when the output is redirected (logs, CI). Use it as
/// <c>SpatialPretrainOptions.Progress</c>; call <see cref="Finish"/> after <c>Fit</c> to end the line.
/// </summary>
public sealed class ConsoleProgressBar : IProgress<PretrainingProgress>
{
    private readonly TextWriter output;
    private readonly bool inPlace;
    private int lastTenth = -1;

    /// <summary>Writes to <paramref name="output"/> (default the console); in place only on an interactive console.</summary>
    public ConsoleProgressBar(TextWriter? output = null)
    {
        this.output = output ?? Console.Out;
        inPlace = output is null && !Console.IsOutputRedirected;
    }

    /// <inheritdoc />
    public void Report(PretrainingProgress p)
    {
        const int width = 24;
        int done = (int)Math.Round(width * (double)p.Step / Math.Max(p.TotalSteps, 1));
        string line = $"[{new string('#', done)}{new string('.', width - done)}] step {p.Step}/{p.TotalSteps} epoch {p.Epoch}  " +
                      $"loss {p.TotalLoss:F3} (host {p.HostLoss:F3}, SP {p.SpatialLoss:F3})  {p.ImagesPerSecond:F0} img/s  ETA {p.Remaining:hh\\:mm\\:ss}";
        if (inPlace)
        {
            output.Write("\r" + line.PadRight(118));
            return;
        }
        int tenth = p.Step * 10 / Math.Max(p.TotalSteps, 1);
        if (tenth == lastTenth) return;
        lastTenth = tenth;
        output.WriteLine(line);
    }

    /// <summary>Ends the in-place line.</summary>
    public void Finish()
    {
        if (inPlace) output.WriteLine();
    }
}
