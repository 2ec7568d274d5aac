using System.Diagnostics;
using SkiaSharp;
using SpatialPrediction.ML.Cli;
using SpatialPrediction.ML.Tests.Reliability;

namespace SpatialPrediction.ML.Tests.Cli;

[NonParallelizable]
public class CliTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-cli-";

    /// <summary>A class-folder dataset: <paramref name="perClass"/> 32 px images of two kinds of pattern.</summary>
    private string Images(int perClass = 8)
    {
        string root = Path.Combine(Folder, "images");
        for (int i = 0; i < perClass; i++)
        {
            Write(Path.Combine(root, "stripes", $"s{i}.png"), ImageFiles.Encode(32, 32, (x, y) => (x + i) % 8 < 4 ? SKColors.Navy : SKColors.Gold));
            Write(Path.Combine(root, "spots", $"p{i}.png"), ImageFiles.Encode(32, 32, (x, y) => (x - 16 - i % 4) * (x - 16 - i % 4) + (y - 16) * (y - 16) < 60 ? SKColors.Crimson : SKColors.White));
        }
        return root;
    }

    private static void Write(string path, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }

    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }

    private static readonly string[] Small = { "--image-size", "32", "--backbone-width", "4", "--batch-size", "8", "--epochs", "1", "--validation-fraction", "0", "--sp-local-resolution", "16" };

    [Test]
    public void Bad_arguments_fail_with_a_message_and_exit_code_2()
    {
        Run().Code.Should().Be(CliApp.Usage);
        Run("train").Error.Should().Contain("Unknown command 'train'");
        var missing = Run("pretrain", "--data", Path.Combine(Folder, "nowhere"), "--out", Path.Combine(Folder, "m.zip"));
        missing.Code.Should().Be(CliApp.Usage);
        missing.Error.Should().Contain("nowhere: no such folder or CSV file");
        Run("pretrain", "--data", Images(), "--out", "m.zip", "--framework", "SimCLRv2").Error.Should().Contain("--framework 'SimCLRv2' is not one of None, SimClr, MoCoV3, Byol, Dino");
        Run("pretrain", "--data", Images(), "--out", "m.zip", "--epoch", "2").Error.Should().Contain("'--epoch' was not matched. Did you mean").And.Contain("--epochs");
        Run("pretrain", "--data", Images()).Error.Should().Contain("'pretrain' needs --out");
        Run("export", "--model", Path.Combine(Folder, "none.zip"), "--onnx", "x.onnx").Error.Should().Contain("no such model file");
        var noBackgrounds = Run("evaluate", "--model", "m.zip", "--train", Images(), "--test", Images(), "--backgrounds", Path.Combine(Folder, "nowhere"));
        noBackgrounds.Code.Should().Be(CliApp.Usage);
        noBackgrounds.Error.Should().Contain("--backgrounds").And.Contain("nowhere: no such folder or .csv file");
        Run("pretrain", "--data", Images(), "--out", Path.Combine(Folder, "m.zip"), "--if-better").Error.Should().Contain("--if-better").And.Contain("add --imagenet");
        // Settings of the option groups are flags like the others, and reach the options' own checks.
        Run("pretrain", "--data", Images(), "--out", Path.Combine(Folder, "m.zip"), "--decode-threads", "-2").Error
            .Should().Contain("Runtime.DecodeThreads must not be negative");
        Run("pretrain", "--data", Images(), "--out", Path.Combine(Folder, "m.zip"), "--sp-max-iou", "2").Error.Should().Contain("MaxIoU must be in [0, 1]");
        new SpatialPredictionOptions().ViewPairs.MaxIoU.Should().Be(0.3f, "the flag set the run's own sampler, not a default another options object reads");
    }

    [Test]
    public void Pretrain_if_better_saves_the_better_of_adapted_and_frozen_ImageNet_features_and_says_both_scores()
    {
        string data = Images(8), model = Path.Combine(Folder, "model.zip");

        var run = Run(new[] { "pretrain", "--data", data, "--out", model, "--imagenet", "--if-better", "--image-size", "32", "--batch-size", "8",
            "--epochs", "1", "--validation-fraction", "0", "--sp-enabled", "false",
            // Fixed layout and engine: the test is about the choice, not about timing ResNet-18 on this machine.
            "--convolution-layout", "ChannelsFirst", "--featurization-engine", "LibTorch" });

        run.Code.Should().Be(CliApp.Done, run.Error);
        run.Output.Should().MatchRegex(@"(Adapted|Frozen) chosen: 5-fold linear-probe accuracy adapted \d+\.\d % ± \d+\.\d %, frozen \d+\.\d % ± \d+\.\d %\.");
        run.Output.Should().Contain($"Saved {model}");
        File.Exists(model).Should().BeTrue();
    }

    [Test]
    public void An_unreadable_image_is_named_and_can_be_skipped()
    {
        string data = Images(4);
        Write(Path.Combine(data, "spots", "broken.png"), "not an image"u8.ToArray());
        string model = Path.Combine(Folder, "model.zip");

        var strict = Run(new[] { "pretrain", "--data", data, "--out", model }.Concat(Small).ToArray());
        if (Directory.Exists(model + ".checkpoints")) Directory.Delete(model + ".checkpoints", recursive: true);
        var skipping = Run(new[] { "pretrain", "--data", data, "--out", model, "--skip-unreadable-images", "true" }.Concat(Small).ToArray());

        strict.Code.Should().Be(CliApp.Failed);
        strict.Error.Should().Contain("broken.png").And.Contain("not a readable image");
        skipping.Code.Should().Be(CliApp.Done, skipping.Error);
        skipping.Output.Should().Contain("Skipped 1 unreadable image(s)").And.Contain("broken.png");
    }

    [Test]
    public void Featurize_and_evaluate_name_every_unreadable_file_or_skip_them_with_a_bare_flag()
    {
        string data = Images(4), model = Path.Combine(Folder, "model.zip"), features = Path.Combine(Folder, "features.parquet");
        Run(new[] { "pretrain", "--data", data, "--out", model }.Concat(Small).ToArray()).Code.Should().Be(CliApp.Done);
        Write(Path.Combine(data, "spots", "broken.png"), "not an image"u8.ToArray());
        Write(Path.Combine(data, "stripes", "empty.png"), Array.Empty<byte>());

        var strict = Run("featurize", "--model", model, "--data", data, "--out", features);
        var skipping = Run("featurize", "--model", model, "--data", data, "--out", features, "--skip-unreadable-images");
        var evaluate = Run("evaluate", "--model", model, "--train", data, "--test", data, "--skip-unreadable-images");

        strict.Code.Should().Be(CliApp.Failed);
        strict.Error.Should().Contain("2 unreadable image(s)").And.Contain("broken.png").And.Contain("empty.png");
        skipping.Code.Should().Be(CliApp.Done, skipping.Error);
        skipping.Output.Should().Contain("Skipped 2 unreadable image(s)").And.Contain("Wrote 8 rows");
        evaluate.Code.Should().Be(CliApp.Done, evaluate.Error);
        evaluate.Output.Should().Contain("| linear probe accuracy |");
    }

    [Test]
    public void Featurize_writes_Parquet_that_reads_back_equal_to_the_CSV()
    {
        string data = Images(4), model = Path.Combine(Folder, "model.zip");
        string parquet = Path.Combine(Folder, "features.parquet"), csv = Path.Combine(Folder, "features.csv");
        Run(new[] { "pretrain", "--data", data, "--out", model }.Concat(Small).ToArray()).Code.Should().Be(CliApp.Done);

        Run("featurize", "--model", model, "--data", data, "--out", parquet).Code.Should().Be(CliApp.Done);
        Run("featurize", "--model", model, "--data", data, "--out", csv).Code.Should().Be(CliApp.Done);

        var (paths, labels, values) = FeatureFiles.ReadParquetAsync(parquet).GetAwaiter().GetResult();
        var rows = File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',')).ToArray();
        paths.Should().HaveCount(8);
        values.Should().AllSatisfy(v => v.Should().HaveCount(32));
        for (int r = 0; r < rows.Length; r++)
        {
            paths[r].Should().Be(rows[r][0].Trim('"'));
            labels[r].Should().Be(rows[r][1].Trim('"'));
            values[r].Should().Equal(rows[r].Skip(2).Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)), "every feature, bit for bit");
        }
        File.Exists(parquet + ".tmp").Should().BeFalse();
    }

    [Test]
    public void Options_complete_on_tab_and_arguments_come_from_response_files()
    {
        var completion = Run("[suggest:14]", "pretrain --epo");
        string responseFile = Path.Combine(Folder, "args.rsp");
        File.WriteAllLines(responseFile, new[] { "--data", Path.Combine(Folder, "nowhere"), "--out", Path.Combine(Folder, "m.zip") });
        var fromFile = Run("pretrain", "@" + responseFile);

        completion.Output.Split('\n', StringSplitOptions.TrimEntries).Should().Contain("--epochs");
        fromFile.Code.Should().Be(CliApp.Usage);
        fromFile.Error.Should().Contain("nowhere: no such folder or CSV file", "the options were read from the file");
    }

    [Test]
    public void A_spatial_pyramid_model_writes_five_times_the_features_and_export_says_what_the_onnx_file_gives()
    {
        string data = Images(), model = Path.Combine(Folder, "pyramid.zip"), csv = Path.Combine(Folder, "pyramid.csv");

        var pretrain = Run(new[] { "pretrain", "--data", data, "--out", model, "--spatial-pyramid", "true" }.Concat(Small).ToArray());
        var featurize = Run("featurize", "--model", model, "--data", data, "--out", csv);
        var export = Run("export", "--model", model, "--onnx", Path.Combine(Folder, "pyramid.onnx"));

        pretrain.Code.Should().Be(CliApp.Done, pretrain.Error);
        featurize.Code.Should().Be(CliApp.Done, featurize.Error);
        File.ReadAllLines(csv)[1].Split(',').Should().HaveCount(2 + 5 * 32, "path, label, the 32 averaged features and 4 quadrants of 32");
        export.Code.Should().Be(CliApp.Done, export.Error);
        export.Output.Should().Contain("reads 160 features (a spatial pyramid)").And.Contain("the first 32 of them");
    }

    [Test]
    public void Pretrain_featurize_evaluate_and_export_work_end_to_end()
    {
        string data = Images(), model = Path.Combine(Folder, "model.zip"), csv = Path.Combine(Folder, "features.csv");

        var pretrain = Run(new[] { "pretrain", "--data", data, "--out", model }.Concat(Small).ToArray());
        var featurize = Run("featurize", "--model", model, "--data", data, "--out", csv);
        var evaluate = Run("evaluate", "--model", model, "--train", data, "--test", data, "--out", Path.Combine(Folder, "report.md"));
        string photos = Path.Combine(Folder, "photos");
        for (int i = 0; i < 2; i++) Write(Path.Combine(photos, $"photo{i}.jpg"), ImageFiles.Encode(48, 40, (x, y) => new SKColor((byte)(x * 5), (byte)(y * 6), (byte)(40 * i)), SKEncodedImageFormat.Jpeg));
        var localise = Run("evaluate", "--model", model, "--train", data, "--test", data, "--backgrounds", photos, "--corruptions");
        var export = Run("export", "--model", model, "--onnx", Path.Combine(Folder, "b.onnx"), "--safetensors", Path.Combine(Folder, "b.safetensors"));
        var import = Run("import", "--safetensors", Path.Combine(Folder, "b.safetensors"), "--out", Path.Combine(Folder, "imported.zip"));
        var importedFeatures = Run("featurize", "--model", Path.Combine(Folder, "imported.zip"), "--data", data, "--out", Path.Combine(Folder, "imported.csv"));
        var torchvisionNames = Run("export", "--model", model, "--safetensors", Path.Combine(Folder, "tv.safetensors"), "--naming", "TorchvisionResNet");
        var again = Run(new[] { "pretrain", "--data", data, "--out", model }.Concat(Small).ToArray());

        pretrain.Code.Should().Be(CliApp.Done, pretrain.Error);
        pretrain.Output.Should().Contain("16 images in 2 classes").And.Contain("Saved");
        featurize.Code.Should().Be(CliApp.Done, featurize.Error);
        var rows = File.ReadAllLines(csv);
        rows.Should().HaveCount(17);
        rows[1].Split(',').Should().HaveCount(2 + 32, "path, label and the 32 features of a width-4 small ResNet");
        evaluate.Code.Should().Be(CliApp.Done, evaluate.Error);
        evaluate.Output.Should().Contain("| linear probe accuracy |").And.Contain("| patch-pair mean R² |");
        File.ReadAllText(Path.Combine(Folder, "report.md")).Should().Contain("![evaluations](report.png)");
        localise.Code.Should().Be(CliApp.Done, localise.Error);
        localise.Output.Should().Contain("| localisation mean R² |").And.Contain("| localisation IoU |").And.Contain("| localisation R² center_x |")
            .And.Contain("| foreground mIoU |").And.Contain("| mean corruption accuracy |").And.Contain("| corruption severity 5 |").And.Contain("| corruption Occlusion |");
        new FileInfo(Path.Combine(Folder, "report.png")).Length.Should().BeGreaterThan(1000);
        export.Code.Should().Be(CliApp.Done, export.Error);
        new FileInfo(Path.Combine(Folder, "b.onnx")).Length.Should().BeGreaterThan(10_000);
        File.Exists(Path.Combine(Folder, "b.safetensors")).Should().BeTrue();
        import.Code.Should().Be(CliApp.Done, import.Error);
        import.Output.Should().Contain("SmallResNet from").And.Contain("32 features out");
        importedFeatures.Code.Should().Be(CliApp.Done, importedFeatures.Error);
        static double[] Values(string row) => row.Split(',').Skip(2).Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var importedRows = File.ReadAllLines(Path.Combine(Folder, "imported.csv"));
        importedRows.Should().HaveCount(rows.Length);
        for (int r = 1; r < rows.Length; r++)
            Values(importedRows[r]).Zip(Values(rows[r]), (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-4, "the imported weights are the exported ones");
        torchvisionNames.Code.Should().Be(CliApp.Failed);
        torchvisionNames.Error.Should().Contain("TorchVision names exist for ResNet18 and ResNet50 only, not for SmallResNet");
        again.Code.Should().Be(CliApp.Usage, "the finished run's checkpoint is still there");
        again.Error.Should().Contain("pass --resume");
    }

    [Test]
    public void A_pretrain_killed_with_SIGKILL_finishes_with_resume()
    {
        string data = Images(16), model = Path.Combine(Folder, "model.zip");
        string cli = Path.Combine(AppContext.BaseDirectory, "spatial-prediction.dll");
        File.Exists(cli).Should().BeTrue($"the CLI is built next to the tests ({cli})");
        string[] run = new[] { cli, "pretrain", "--data", data, "--out", model, "--checkpoint-every-steps", "1" }
            .Concat(Small.Select(a => a == "1" ? "8" : a)).ToArray(); // 8 epochs of 4 steps

        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in run) start.ArgumentList.Add(a);
        using (var first = Process.Start(start)!)
        {
            string checkpoint = Path.Combine(model + ".checkpoints", "checkpoint.ckpt");
            var clock = Stopwatch.StartNew();
            while (!File.Exists(checkpoint) && !first.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(20);
            Thread.Sleep(300);
            first.HasExited.Should().BeFalse("the run must still be training when it is killed");
            first.Kill(entireProcessTree: true);
            first.WaitForExit();
        }
        File.Exists(model).Should().BeFalse();

        var resumed = Run(run.Skip(1).Append("--resume").ToArray());

        resumed.Code.Should().Be(CliApp.Done, resumed.Error);
        resumed.Output.Should().Contain("Saved").And.Contain("32 steps");
        File.Exists(model).Should().BeTrue();
    }
}
