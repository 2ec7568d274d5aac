using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Training;
using SpatialPrediction.ML.Views;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Training;

public class BatchLoaderTests
{
    /// <summary>A term whose views take a set time to make, and no tensors.</summary>
    private sealed class TimedViews(int milliseconds) : TrainingTerm(nameof(TimedViews))
    {
        public override string TermName => "timed";
        public override ViewSet MakeViews(PictureBatch pictures, Random random, Device device)
        {
            Thread.Sleep(milliseconds);
            return new ViewSet(Array.Empty<Tensor>());
        }
        public override Tensor Loss(BackboneModule backbone, ViewSet views) => throw new NotSupportedException();
    }

    private static int Decision(int viewMilliseconds, int stepMilliseconds, List<string> log)
    {
        using var images = new TensorTrainingImages(zeros(16, 3, 8, 8, dtype: ScalarType.Byte), owned: true);
        using var term = new TimedViews(viewMilliseconds);
        var indices = Enumerable.Range(0, 16).Select(i => (long)i).ToArray();
        using var loader = new BatchLoader(images, indices, 4, 1, new[] { term }, CPU, 0, 20, prefetch: null, log.Add);
        var micro = new List<long>();
        for (int i = 0; i < 20; i++)
        {
            using var batch = loader.Next();
            micro.Add(batch.MicroBatch);
            Thread.Sleep(stepMilliseconds);
        }
        micro.Should().Equal(Enumerable.Range(0, 20).Select(i => (long)i), "batches come in order whichever thread makes them");
        return loader.Prefetching;
    }

    [Test]
    public void A_measured_loader_makes_batches_ahead_when_views_are_a_large_part_of_the_step()
    {
        var log = new List<string>();
        Decision(viewMilliseconds: 40, stepMilliseconds: 5, log).Should().Be(1);
        log.Should().ContainSingle().Which.Should().Contain("one batch is made ahead");
    }

    [Test]
    public void A_measured_loader_keeps_views_on_the_training_thread_when_they_are_a_small_part_of_the_step()
    {
        var log = new List<string>();
        Decision(viewMilliseconds: 1, stepMilliseconds: 60, log).Should().Be(0);
        log.Should().ContainSingle().Which.Should().Contain("views stay on the training thread");
    }
}
