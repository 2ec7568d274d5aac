using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Training;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Training;

public class CheckpointResumeTests
{
    private string directory = null!;

    [SetUp]
    public void CreateFolder() => directory = Directory.CreateTempSubdirectory("sp-checkpoints-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(directory, recursive: true);

    private static PretrainingSettings Settings(SslFramework framework, ComputePrecision precision = ComputePrecision.Float32) => new()
    {
        Framework = framework,
        TrainingPrecision = precision,
        BackboneWidth = 4,
        ImageSize = TestScenes.ImageSize,
        LocalCrops = 2,
        Epochs = 3,
        BatchSize = 16,
        LearningRate = 3e-3,
        ValidationFraction = 0,
        Seed = 5,
        CheckpointEverySteps = 2,
        SpatialPrediction = new SpatialPredictionSettings { LocalResolution = 16, HeadWidth = 32 },
    };

    private static void ExpectSameWeights(TorchSharp.torch.nn.Module a, TorchSharp.torch.nn.Module b)
    {
        var stateA = a.state_dict();
        var stateB = b.state_dict();
        stateA.Keys.Should().Equal(stateB.Keys);
        foreach (var key in stateA.Keys)
            stateA[key].allclose(stateB[key], rtol: 0, atol: 0).Should().BeTrue($"{key} should be identical after resuming");
    }

    [TestCase(SslFramework.SimClr, ComputePrecision.Float32)]
    [TestCase(SslFramework.Dino, ComputePrecision.Float32)]
    [TestCase(SslFramework.SimClr, ComputePrecision.BFloat16)]
    public void Cancel_halfway_then_resume_gives_the_weights_of_an_uninterrupted_run(SslFramework framework, ComputePrecision precision)
    {
        using var images = TestScenes.Tensor(64);
        var straight = SpatialPretrainer.Train(images, Settings(framework, precision), CPU);
        using var expected = straight.Backbone;
        int total = straight.History.Steps.Count;

        using var cancellation = new CancellationTokenSource();
        var interrupted = Settings(framework, precision) with
        {
            CheckpointDirectory = directory,
            CheckpointEverySteps = 1000,
            CancellationToken = cancellation.Token,
            Progress = new SynchronousProgress<PretrainingProgress>(p => { if (p.Step == total / 2) cancellation.Cancel(); }),
        };
        FluentActions.Invoking(() => SpatialPretrainer.Train(images, interrupted, CPU))
            .Should().Throw<OperationCanceledException>().WithMessage($"*after {total / 2} of {total} steps*checkpoint*");
        File.Exists(Path.Combine(directory, Checkpoint.LatestFileName)).Should().BeTrue();

        var resumedRun = SpatialPretrainer.Train(images, Settings(framework, precision) with { CheckpointDirectory = directory }, CPU);
        using var resumed = resumedRun.Backbone;

        ExpectSameWeights(expected, resumed);
        resumedRun.History.Steps.Select(s => s.TotalLoss).Should().Equal(straight.History.Steps.Select(s => s.TotalLoss));
    }

    [Test]
    public void A_damaged_newest_checkpoint_falls_back_to_the_previous_one()
    {
        using var images = TestScenes.Tensor(64);
        var settings = Settings(SslFramework.SimClr) with { CheckpointDirectory = directory, Epochs = 1 };
        SpatialPretrainer.Train(images, settings, CPU).Backbone.Dispose();
        string latest = Path.Combine(directory, Checkpoint.LatestFileName);
        File.Exists(Path.Combine(directory, Checkpoint.PreviousFileName)).Should().BeTrue();
        var bytes = File.ReadAllBytes(latest);
        bytes[^10] ^= 0xFF;
        File.WriteAllBytes(latest, bytes);
        var messages = new List<string>();

        var resumed = SpatialPretrainer.Train(images, settings with { Log = messages.Add }, CPU);
        resumed.Backbone.Dispose();

        messages.Should().Contain(m => m.Contains("checksum mismatch") && m.Contains(latest));
        messages.Should().Contain(m => m.Contains("Resuming from") && m.Contains(Checkpoint.PreviousFileName));
    }

    [Test]
    public void Only_damaged_checkpoints_give_an_error_naming_each_file()
    {
        using var images = TestScenes.Tensor(32);
        File.WriteAllBytes(Path.Combine(directory, Checkpoint.LatestFileName), new byte[100]);

        FluentActions.Invoking(() => SpatialPretrainer.Train(images, Settings(SslFramework.SimClr) with { CheckpointDirectory = directory }, CPU))
            .Should().Throw<InvalidDataException>().WithMessage($"*{Checkpoint.LatestFileName}*bad header*");
    }

    /// <summary>Replaces the fingerprint at the start of a checkpoint's payload (magic 8, version 4, length 8, SHA-256 32, payload).</summary>
    private static void RewriteFingerprint(string path, string fingerprint)
    {
        var bytes = File.ReadAllBytes(path);
        var payload = bytes.AsSpan(52).ToArray();
        using var reader = new BinaryReader(new MemoryStream(payload));
        reader.ReadString();
        var rest = payload.AsSpan((int)reader.BaseStream.Position).ToArray();
        using var rewritten = new MemoryStream();
        using (var writer = new BinaryWriter(rewritten, System.Text.Encoding.UTF8, leaveOpen: true)) writer.Write(fingerprint);
        rewritten.Write(rest);
        var newPayload = rewritten.ToArray();
        using var file = new BinaryWriter(File.Create(path));
        file.Write(bytes.AsSpan(0, 12));
        file.Write((long)newPayload.Length);
        file.Write(System.Security.Cryptography.SHA256.HashData(newPayload));
        file.Write(newPayload);
    }

    [Test]
    public void A_checkpoint_written_with_the_hand_written_fingerprint_of_earlier_versions_still_resumes()
    {
        using var images = TestScenes.Tensor(64);
        var straight = SpatialPretrainer.Train(images, Settings(SslFramework.SimClr), CPU);
        using var expected = straight.Backbone;
        using var cancellation = new CancellationTokenSource();
        var interrupted = Settings(SslFramework.SimClr) with
        {
            CheckpointDirectory = directory, CheckpointEverySteps = 1000, CancellationToken = cancellation.Token,
            Progress = new SynchronousProgress<PretrainingProgress>(p => { if (p.Step == 3) cancellation.Cancel(); }),
        };
        FluentActions.Invoking(() => SpatialPretrainer.Train(images, interrupted, CPU)).Should().Throw<OperationCanceledException>();
        string latest = Path.Combine(directory, Checkpoint.LatestFileName);

        RewriteFingerprint(latest, (Settings(SslFramework.SimClr) with { Seed = 6 }).LegacyFingerprint());
        var otherSettings = () => SpatialPretrainer.Train(images, Settings(SslFramework.SimClr) with { CheckpointDirectory = directory }, CPU);
        otherSettings.Should().Throw<InvalidOperationException>().WithMessage("*different settings*");
        RewriteFingerprint(latest, Settings(SslFramework.SimClr).LegacyFingerprint());
        var resumed = SpatialPretrainer.Train(images, Settings(SslFramework.SimClr) with { CheckpointDirectory = directory }, CPU);
        using var resumedBackbone = resumed.Backbone;

        Settings(SslFramework.SimClr).LegacyFingerprint().Should().NotStartWith(SettingsFingerprint.Prefix);
        ExpectSameWeights(expected, resumedBackbone);
    }

    [Test]
    public void A_checkpoint_from_different_settings_is_refused_instead_of_silently_mixed()
    {
        using var images = TestScenes.Tensor(64);
        SpatialPretrainer.Train(images, Settings(SslFramework.SimClr) with { CheckpointDirectory = directory, Epochs = 1 }, CPU).Backbone.Dispose();

        FluentActions.Invoking(() => SpatialPretrainer.Train(images, Settings(SslFramework.SimClr) with { CheckpointDirectory = directory, Seed = 6 }, CPU))
            .Should().Throw<InvalidOperationException>().WithMessage("*different settings*");
    }

    [Test]
    public void No_temporary_files_are_left_behind()
    {
        using var images = TestScenes.Tensor(64);
        SpatialPretrainer.Train(images, Settings(SslFramework.SimClr) with { CheckpointDirectory = directory }, CPU).Backbone.Dispose();

        Directory.GetFiles(directory).Select(Path.GetFileName).Should().BeEquivalentTo(Checkpoint.LatestFileName, Checkpoint.PreviousFileName);
    }
}
