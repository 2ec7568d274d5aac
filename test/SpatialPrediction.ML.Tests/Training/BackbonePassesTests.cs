using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Training;
using SpatialPrediction.ML.Views;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Training;

/// <summary>
/// The passes each term declares for the layout calibration are the backbone calls its loss really makes: a recording
/// backbone (student and teachers) logs every call's batch, side and whether gradients were on.
/// </summary>
public class BackbonePassesTests
{
    private sealed class RecordingBackbone : BackboneModule
    {
        private readonly SmallResNet inner = new(8);
        private readonly List<BackbonePass> log;

        public RecordingBackbone(List<BackbonePass> log) : base(nameof(RecordingBackbone))
        {
            this.log = log;
            RegisterComponents();
        }

        public override int FeatureDimension => inner.FeatureDimension;
        public override int MinInputSize => inner.MinInputSize;
        public override int MaxInputSize => inner.MaxInputSize;
        public override BackboneKind Kind => inner.Kind;
        public override Tensor FeatureMap(Tensor images) => inner.FeatureMap(images);

        public override Tensor forward(Tensor images)
        {
            log.Add(new BackbonePass((int)images.shape[0], (int)images.shape[3], is_grad_enabled()));
            return inner.forward(images);
        }
    }

    [TestCase(SslFramework.SimClr)]
    [TestCase(SslFramework.MoCoV3)]
    [TestCase(SslFramework.Byol)]
    [TestCase(SslFramework.Dino)]
    public void A_hosts_declared_passes_and_SPs_are_the_calls_their_losses_make(SslFramework framework)
    {
        const int batch = 4;
        var settings = new PretrainingSettings
        {
            Framework = framework, Backbone = BackboneKind.SmallResNet, BackboneWidth = 8, ImageSize = 32, LocalCrops = 3,
            SpatialPrediction = new SpatialPredictionSettings { LocalResolution = 16, PairsPerImage = 2 },
        };
        var log = new List<BackbonePass>();
        using var backbone = new RecordingBackbone(log);
        using var host = SpatialPretrainer.CreateHost(settings, backbone, () => new RecordingBackbone(log))!;
        using var plugin = new SpatialPredictionPlugin(backbone.FeatureDimension, settings.SpatialPrediction);
        using var images = TestScenes.Tensor(batch);
        using var pictures = PictureBatch.Of(images);

        foreach (TrainingTerm term in new TrainingTerm[] { host, plugin })
        {
            using var scope = NewDisposeScope();
            using var views = term.MakeViews(pictures, new Random(1), CPU);
            log.Clear();
            term.Loss(backbone, views);

            log.Should().Equal(term.BackbonePasses(batch), $"{term.TermName}'s loss calls the backbone as it declares");
        }
    }
}
