using SpatialPrediction.ML.Training;
using Spectre.Console;

namespace SpatialPrediction.ML.Reporting;

/// <summary>
/// Pretraining progress for console apps. On an interactive terminal a Spectre.Console progress bar (step, epoch, losses,
/// throughput, time left) is redrawn in place; when the output is redirected (logs, CI) or a writer is given, a plain
/// line is printed every tenth of the run. Use it as <c>SpatialPretrainOptions.Progress</c> and dispose it (or call
/// <see cref="Finish"/>) after <c>Fit</c>.
/// </summary>
public sealed class ConsoleProgressBar : IProgress<PretrainingProgress>, IDisposable
{
    private readonly TextWriter? lines;
    private readonly ManualResetEventSlim finished = new();
    private readonly ManualResetEventSlim started = new();
    private readonly Thread? renderer;
    private ProgressTask? task;
    private int lastTenth = -1;

    /// <summary>Writes lines to <paramref name="output"/> when given; otherwise draws on the console (lines when redirected).</summary>
    public ConsoleProgressBar(TextWriter? output = null)
    {
        if (output is not null || Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            lines = output ?? Console.Out;
            return;
        }
        // Spectre's progress display lives inside a callback; a thread holds it open while Fit runs on the caller's.
        renderer = new Thread(() => AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                task = context.AddTask("pretraining", maxValue: 1);
                started.Set();
                finished.Wait();
                task.StopTask();
            })) { IsBackground = true, Name = "progress display" };
        renderer.Start();
        started.Wait();
    }

    /// <inheritdoc />
    public void Report(PretrainingProgress p)
    {
        string status = $"step {p.Step}/{p.TotalSteps} epoch {p.Epoch}  loss {p.TotalLoss:F3} (host {p.HostLoss:F3}, SP {p.SpatialLoss:F3})  {p.ImagesPerSecond:F0} img/s";
        if (task is not null)
        {
            task.MaxValue = Math.Max(p.TotalSteps, 1);
            task.Value = p.Step;
            task.Description = Markup.Escape(status);
            return;
        }
        int tenth = p.Step * 10 / Math.Max(p.TotalSteps, 1);
        if (tenth == lastTenth) return;
        lastTenth = tenth;
        lines!.WriteLine($"{status}  ETA {p.Remaining:hh\\:mm\\:ss}");
    }

    /// <summary>Ends the display (the bar stays on screen at its last state).</summary>
    public void Finish()
    {
        finished.Set();
        renderer?.Join();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Finish();
        finished.Dispose();
        started.Dispose();
    }
}
