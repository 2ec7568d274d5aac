using Microsoft.ML;
using SpatialPrediction.ML.Training;

namespace SpatialPrediction.ML.Tests.MLNet;

public class PretrainLifecycleTests
{
    private static SpatialPretrainOptions Options(string? checkpoints = null) => new()
    {
        ImageSize = TestScenes.ImageSize,
        BackboneWidth = 4,
        Epochs = 3,
        BatchSize = 16,
        ValidationFraction = 0,
        CheckpointDirectory = checkpoints,
        CheckpointEverySteps = 1000,
        SpatialPrediction = new SpatialPredictionOptions { LocalResolution = 16, HeadWidth = 16 },
    };

    [Test]
    public void A_cancelled_Fit_leaves_a_checkpoint_that_a_second_Fit_resumes_from()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 64);
        string directory = Directory.CreateTempSubdirectory("sp-fit-").FullName;
        try
        {
            using var cancellation = new CancellationTokenSource();
            var first = Options(directory);
            first.CancellationToken = cancellation.Token;
            first.Progress = new SynchronousProgress<PretrainingProgress>(p => { if (p.Step == 4) cancellation.Cancel(); });
            FluentActions.Invoking(() => mlContext.Transforms.SpatialPretrain(first).Fit(data)).Should().Throw<OperationCanceledException>();

            var log = new List<string>();
            mlContext.Log += (_, e) => { if (e.Source.Contains("SpatialPretrain")) log.Add(e.Message); };
            var firstResumedStep = 0;
            var second = Options(directory);
            second.Progress = new SynchronousProgress<PretrainingProgress>(p => { if (firstResumedStep == 0) firstResumedStep = p.Step; });
            var featurizer = mlContext.Transforms.SpatialPretrain(second).Fit(data);

            firstResumedStep.Should().Be(5, "four steps were done before the cancellation");
            featurizer.TrainingHistory!.Steps.Should().HaveCount(3 * 64 / 16);
            log.Should().Contain(m => m.Contains("Resuming from") && m.Contains(directory));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void MLContext_CancelExecution_stops_Fit_between_steps()
    {
        var mlContext = new MLContext(1);
        var data = TestScenes.DataView(mlContext, 64);
        int steps = 0;
        var options = Options();
        // CancelExecution is internal in ML.NET 5.0 (AutoML and hosts call it); the test calls it the same way they can.
        var cancelExecution = typeof(MLContext).GetMethod("CancelExecution", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)!;
        options.Progress = new SynchronousProgress<PretrainingProgress>(_ => { if (++steps == 2) cancelExecution.Invoke(mlContext, null); });

        FluentActions.Invoking(() => mlContext.Transforms.SpatialPretrain(options).Fit(data)).Should().Throw<OperationCanceledException>();
        steps.Should().Be(2);
    }
}
