using Microsoft.ML;
using Microsoft.ML.Data;
using SkiaSharp;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Tests.Reliability;

namespace SpatialPrediction.ML.Tests.MLNet;

/// <summary>
/// Batched featurisation reads the next batch's images while the current batch is featurised: the features are those of
/// one image at a time, a file that cannot be read is reported as it would be without the read ahead, and only when
/// its row is asked for.
/// </summary>
public class BatchedFeaturizationTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-batched-";

    private IDataView Images(MLContext mlContext, int count, int? brokenRow = null, int side = 24)
    {
        var entries = new List<ImageEntry>();
        for (int i = 0; i < count; i++)
        {
            string path = Path.Combine(Folder, $"image{i:D2}.png");
            byte shade = (byte)(20 * i);
            File.WriteAllBytes(path, i == brokenRow ? "not a picture"u8.ToArray() : ImageFiles.Encode(side, side, (x, y) => new SKColor(shade, (byte)(8 * x), (byte)(8 * y))));
            entries.Add(new ImageEntry(path, "a"));
        }
        return new ImageDataset(entries).ToDataView(mlContext);
    }

    [Test]
    public void Batches_read_ahead_give_the_features_of_one_image_at_a_time()
    {
        var mlContext = new MLContext(1);
        var data = Images(mlContext, 11);
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));

        float[][] Features(int batch) => mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { BatchSize = batch })
            .Fit(data).Transform(data).GetColumn<float[]>("Features").ToArray();
        var single = Features(1);
        var batched = Features(4); // 4 + 4 + 3: two batches read ahead, the last one short

        batched.Should().HaveCount(11);
        for (int i = 0; i < 11; i++) batched[i].Zip(single[i], (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-4f, $"row {i}");
    }

    [TestCase(FeaturizationEngine.LibTorch)]
    [TestCase(FeaturizationEngine.OnnxRuntime)]
    public void Pictures_at_the_backbone_size_written_into_alternating_batch_buffers_keep_their_rows(FeaturizationEngine engine)
    {
        var mlContext = new MLContext(1);
        var data = Images(mlContext, 11, side: 32); // at the backbone's size: written straight into the batch buffer
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));

        float[][] Features(int batch) => mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { BatchSize = batch, Engine = engine })
            .Fit(data).Transform(data).GetColumn<float[]>("Features").ToArray();
        var single = Features(1);
        var batched = Features(3); // 3 + 3 + 3 + 2: each of the two buffers filled twice, the last batch short

        for (int i = 0; i < 11; i++) batched[i].Zip(single[i], (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-4f, $"row {i}");
        for (int i = 1; i < 11; i++)
            single[i].Zip(single[i - 1], (a, b) => Math.Abs(a - b)).Max().Should().BeGreaterThan(1e-3f, $"rows {i - 1} and {i} are different pictures");
    }

    [Test]
    public void A_batched_cursor_reuses_native_memory_while_open_and_gives_it_back_when_disposed()
    {
        var mlContext = new MLContext(1);
        var data = Images(mlContext, 5);
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));
        var featurized = mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { BatchSize = 4 }).Fit(data).Transform(data);

        bool held;
        using (var cursor = featurized.GetRowCursor(featurized.Schema))
        {
            var features = cursor.GetGetter<VBuffer<float>>(featurized.Schema["Features"]);
            var value = default(VBuffer<float>);
            cursor.MoveNext().Should().BeTrue();
            features(ref value);
            held = SpatialPrediction.ML.Interop.NativeHeapReuse.Held;
        }

        held.Should().BeTrue("a batch's large activations are recycled from the heap while the cursor reads");
        SpatialPrediction.ML.Interop.NativeHeapReuse.Held.Should().BeFalse("disposing the cursor ends the reuse");
    }

    /// <summary>Ten images featurised in batches of four, the file of row 6 unreadable.</summary>
    private IDataView InBatchesOfFourWithRow6Broken(SpatialBackbone backbone)
    {
        var mlContext = new MLContext(1);
        var data = Images(mlContext, 10, brokenRow: 6);
        return mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { BatchSize = 4 }).Fit(data).Transform(data);
    }

    [Test]
    public void A_broken_file_in_a_batch_read_ahead_is_named_when_its_row_is_reached_and_not_before()
    {
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));
        var featurized = InBatchesOfFourWithRow6Broken(backbone);

        var firstBatch = featurized.GetColumn<float[]>("Features").Take(4).ToList(); // its batch is fine; the next one is read meanwhile
        FluentActions.Invoking(() => featurized.GetColumn<float[]>("Features").ToList())
            .Should().Throw<Exception>().Where(e => e.Message.Contains("image06.png"), "the error names the file that cannot be read");

        firstBatch.Should().HaveCount(4).And.OnlyContain(f => f.All(float.IsFinite));
    }

    [Test]
    public void Rows_skipped_past_a_broken_file_raise_nothing_though_their_batch_was_read_ahead()
    {
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));
        var featurized = InBatchesOfFourWithRow6Broken(backbone);
        using var cursor = featurized.GetRowCursor(new[] { featurized.Schema["Features"] });
        var getter = cursor.GetGetter<VBuffer<float>>(featurized.Schema["Features"]);
        var features = default(VBuffer<float>);
        var asked = new List<long>();

        while (cursor.MoveNext())
        {
            if (cursor.Position is >= 4 and < 9) continue; // rows 4–8, the broken row 6 among them, are never asked for
            getter(ref features);
            features.DenseValues().Should().OnlyContain(v => float.IsFinite(v));
            asked.Add(cursor.Position);
        }

        asked.Should().Equal(0, 1, 2, 3, 9);
    }
}
