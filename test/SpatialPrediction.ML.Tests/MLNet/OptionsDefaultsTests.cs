using SpatialPrediction.ML.Training;

namespace SpatialPrediction.ML.Tests.MLNet;

public class OptionsDefaultsTests
{
    [Test]
    public void The_public_options_take_every_default_from_the_engine_settings()
    {
        // The fingerprint covers every setting that changes the weights, nested SP settings included, member by member.
        var fromOptions = new SpatialPretrainOptions().ToSettings().Fingerprint();
        var engine = new PretrainingSettings().Fingerprint();

        fromOptions.Should().Be(engine);
    }

    [Test]
    public void A_changed_option_still_reaches_the_settings()
        => new SpatialPretrainOptions { LearningRate = 5e-4, SpatialPrediction = { ProjectorWidth = 0 } }.ToSettings()
            .Should().Match<PretrainingSettings>(s => s.LearningRate == 5e-4 && s.SpatialPrediction.ProjectorWidth == 0);
}
