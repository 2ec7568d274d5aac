using Microsoft.ML;
using Microsoft.ML.Data;
using SkiaSharp;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.MLNet;
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

    /// <summary>The featuriser with reading ahead on from the first batch, whatever the core count would decide.</summary>
    private static SpatialFeaturizerTransformer ReadingAhead(SpatialFeaturizerTransformer featurizer)
    {
        featurizer.ReadAhead = true;
        return featurizer;
    }

    private sealed class SlowImageRow(MLImage image, int millisecondsToRead)
    {
        [Microsoft.ML.Transforms.Image.ImageType(64, 64)]
        public MLImage Image
        {
            get
            {
                Thread.Sleep(millisecondsToRead); // a slow decoder or disk
                return image;
            }
        }
    }

    /// <summary>Reads <paramref name="rows"/> rows in order from a source whose reading takes <paramref name="millisecondsToRead"/> a row; its decisions after each batch.</summary>
    private static List<bool?> ReadAheadDecisions(int millisecondsToRead, BackboneSpec spec, int rows)
    {
        var mlContext = new MLContext(1);
        var picture = SpatialScenes.ToMLImage(SpatialScenes.Generate(1, new SpatialScenesOptions { ImageSize = 64, Seed = 3 })[0]);
        var data = mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, rows).Select(_ => new SlowImageRow(picture, millisecondsToRead)).ToList());
        using var backbone = SpatialBackbone.CreateUntrained(spec);
        var featurizer = mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { BatchSize = 4, Engine = FeaturizationEngine.LibTorch }).Fit(data);
        using var source = new BatchedFeatureSource(featurizer, featurizer.InputFor(data.Schema), data, "Image", 4, withMaps: false);
        var decisions = new List<bool?>();
        for (int position = 0; position < rows; position++)
        {
            source.At(position);
            if (position % 4 == 3) decisions.Add(source.ReadsAhead);
        }
        return decisions;
    }

    [Test]
    public void On_few_cores_slow_reading_is_moved_to_a_worker_after_the_timed_batches()
    {
        var decisions = ReadAheadDecisions(millisecondsToRead: 15, new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 64), rows: 20);

        if (Environment.ProcessorCount >= 4) decisions.Should().OnlyContain(d => d == true, "with four cores or more the worker reads ahead from the start");
        else decisions.Should().Equal(new bool?[] { null, null, true, true, true },
            "the warm-up and two timed batches are read inline, then reading (60 ms a batch) dwarfs a small network's pass");
    }

    [Test]
    public void On_few_cores_quick_reading_stays_inline_beside_a_heavy_pass()
    {
        var decisions = ReadAheadDecisions(millisecondsToRead: 0, new BackboneSpec(BackboneKind.ResNet50, ImageSize: 64), rows: 16);

        if (Environment.ProcessorCount >= 4) decisions.Should().OnlyContain(d => d == true);
        else decisions.Should().Equal(new bool?[] { null, null, false, false },
            "in-memory pictures take far less than 8 % of a ResNet-50 pass, and a worker would only compete with its threads");
    }

    [Test]
    public void Batches_read_ahead_give_the_features_of_one_image_at_a_time()
    {
        var mlContext = new MLContext(1);
        var data = Images(mlContext, 11);
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));

        float[][] Features(int batch) => ReadingAhead(mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { BatchSize = batch }).Fit(data))
            .Transform(data).GetColumn<float[]>("Features").ToArray();
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

        float[][] Features(int batch) => ReadingAhead(mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { BatchSize = batch, Engine = engine }).Fit(data))
            .Transform(data).GetColumn<float[]>("Features").ToArray();
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
            held = SpatialPrediction.ML.Machine.NativeHeapReuse.Held;
        }

        held.Should().BeTrue("a batch's large activations are recycled from the heap while the cursor reads");
        SpatialPrediction.ML.Machine.NativeHeapReuse.Held.Should().BeFalse("disposing the cursor ends the reuse");
    }

    /// <summary>Ten images featurised in batches of four, the file of row 6 unreadable.</summary>
    private IDataView InBatchesOfFourWithRow6Broken(SpatialBackbone backbone)
    {
        var mlContext = new MLContext(1);
        var data = Images(mlContext, 10, brokenRow: 6);
        return ReadingAhead(mlContext.Transforms.SpatialFeaturize(backbone, new SpatialFeaturizeOptions { BatchSize = 4 }).Fit(data)).Transform(data);
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
