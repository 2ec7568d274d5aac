using System.Text.RegularExpressions;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Training;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Docs;

/// <summary>Keeps docs/architecture.md honest: its code is the code that compiles and trains here.</summary>
public class DocsWalkthroughTests
{
    private static string Repository([System.Runtime.CompilerServices.CallerFilePath] string here = "")
        => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", ".."));

    private static string Architecture => File.ReadAllText(Path.Combine(Repository(), "docs", "architecture.md"));

    [Test]
    public void Every_snippet_in_the_architecture_page_is_the_file_it_names()
    {
        var snippets = Regex.Matches(Architecture, @"<!-- snippet: (?<path>\S+) -->\s*```csharp\n(?<code>.*?)\n```", RegexOptions.Singleline);
        var lines = Regex.Matches(Architecture, @"<!-- line: (?<path>\S+) -->\s*```csharp\n(?<code>.*?)\n```", RegexOptions.Singleline);

        snippets.Should().NotBeEmpty();
        lines.Should().NotBeEmpty();
        foreach (Match m in snippets)
            m.Groups["code"].Value.Should().Be(File.ReadAllText(Path.Combine(Repository(), m.Groups["path"].Value)).TrimEnd('\n'), m.Groups["path"].Value);
        foreach (Match m in lines)
            File.ReadAllLines(Path.Combine(Repository(), m.Groups["path"].Value)).Should().Contain(m.Groups["code"].Value, m.Groups["path"].Value);
    }

    [Test]
    public void The_walkthrough_host_trains_after_one_registration_line()
    {
        HostRegistry.Register(VarianceInvarianceObjective.Registration);
        using var images = TestScenes.Tensor(48);
        var settings = new PretrainingSettings
        {
            Framework = VarianceInvarianceObjective.Registration.Framework, BackboneWidth = 4, ImageSize = TestScenes.ImageSize,
            Epochs = 2, BatchSize = 16, ValidationFraction = 0, SpatialPrediction = new SpatialPrediction.ML.Spatial.SpatialPredictionSettings { LocalResolution = 16, HeadWidth = 32 },
        };

        var result = SpatialPretrainer.Train(images, settings, CPU);
        using var backbone = result.Backbone;

        result.History.Steps.Should().NotBeEmpty().And.OnlyContain(s => float.IsFinite(s.HostLoss) && s.HostLoss > 0 && s.SpatialLoss > 0);
        result.History.Steps.Should().OnlyContain(s => s.HostGradientNorm > 0, "the walk-through's loss trains the backbone");
    }
}
