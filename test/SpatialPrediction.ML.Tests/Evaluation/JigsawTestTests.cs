using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Data;
using SpatialPrediction.ML.Evaluation;

namespace SpatialPrediction.ML.Tests.Evaluation;

public class JigsawTestTests
{
    /// <summary>Red is x, green is y; blue encodes the label.</summary>
    private static MLImage LabelledCoordinateImage(int label, int size = 64)
    {
        var rgba = new byte[size * size * 4];
        for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
        {
            int p = (y * size + x) * 4;
            rgba[p] = (byte)(255 * x / size);
            rgba[p + 1] = (byte)(255 * y / size);
            rgba[p + 2] = (byte)(60 * label);
            rgba[p + 3] = 255;
        }
        return MLImage.CreateFromPixels(size, size, MLPixelFormat.Rgba32, rgba);
    }

    private static float[][] MeanColour(IReadOnlyList<MLImage> images) => images.Select(image =>
    {
        var px = image.Pixels.ToArray();
        int n = px.Length / 4;
        return new[] { 0, 1, 2 }.Select(c => (float)Enumerable.Range(0, n).Average(i => px[4 * i + c]) / 255f).ToArray();
    }).ToArray();

    [TestCase(2)]
    [TestCase(3)]
    public void Tiles_that_show_their_position_are_all_put_back(int grid)
    {
        var labels = Enumerable.Range(0, 16).Select(i => i % 4).ToList();
        var images = labels.Select(l => LabelledCoordinateImage(l)).ToList();

        var report = SpatialEvaluation.JigsawTest(new MLContext(1), MeanColour, images, labels, new JigsawOptions { Grid = grid, TileResolution = 16 });

        report.TileAccuracy.Should().Be(1.0);
        report.PermutationAccuracy.Should().Be(1.0);
        report.OriginalAccuracy.Should().Be(1.0);
        report.ReconstructedAccuracy.Should().Be(report.OriginalAccuracy);
    }

    [Test]
    public void Runs_on_a_real_featurizer_and_reports_shares()
    {
        var mlContext = new MLContext(1);
        var scenes = SpatialScenes.Generate(12, new SpatialScenesOptions { ImageSize = 32, ClassCount = 3 });
        using var backbone = SpatialBackbone.CreateUntrained(new BackboneSpec(BackboneKind.SmallResNet, Width: 4, ImageSize: 32));
        var featurizer = mlContext.Transforms.SpatialFeaturize(backbone).Fit(SpatialScenes.ToDataView(mlContext, scenes.Take(1)));

        var report = SpatialEvaluation.JigsawTest(mlContext, featurizer.AsImageFeaturizer(), scenes.Select(SpatialScenes.ToMLImage).ToList(),
            scenes.Select(s => s.Label).ToList(), new JigsawOptions { TileResolution = 16 });

        ImageFeaturizer direct = images => images.Select(backbone.Featurize).ToArray();
        var directReport = SpatialEvaluation.JigsawTest(mlContext, direct, scenes.Select(SpatialScenes.ToMLImage).ToList(),
            scenes.Select(s => s.Label).ToList(), new JigsawOptions { TileResolution = 16 });

        report.TileAccuracy.Should().BeApproximately(directReport.TileAccuracy, 1e-9, "the ML.NET column path gives the backbone's own features");
        report.PermutationAccuracy.Should().BeApproximately(directReport.PermutationAccuracy, 1e-9);
        report.OriginalAccuracy.Should().BeApproximately(directReport.OriginalAccuracy, 1e-9);
        report.PermutationAccuracy.Should().BeLessThanOrEqualTo(report.TileAccuracy, "an exact permutation puts every tile back");
        (report.TileAccuracy * 12 * 4).Should().BeApproximately(Math.Round(report.TileAccuracy * 12 * 4), 1e-9, "a share of the 48 tiles of the 12 images");
    }
}
