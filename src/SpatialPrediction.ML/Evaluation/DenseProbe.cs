using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using SpatialPrediction.ML.Data;

namespace SpatialPrediction.ML.Evaluation;

/// <summary>
/// Dense probes on frozen spatial features: a linear classifier (segmentation) or a linear regressor (depth) applied
/// independently at every feature-map location, trained on the truth sampled at the locations of the training scenes,
/// its grid of predictions upsampled (nearest) to full resolution and scored against the full-resolution truth.
/// </summary>
public static class DenseProbe
{
    /// <summary>Semantic segmentation (background + each class) with mIoU and pixel accuracy on the test scenes.</summary>
    public static SegmentationScores Segmentation(MLContext mlContext, DenseFeaturizer featurizer, IReadOnlyList<SceneImage> train,
        IReadOnlyList<SceneImage> test, float l2Regularization = 0.01f)
    {
        int classes = Enum.GetValues<SceneShape>().Length + 1;
        var (trainVectors, trainCells) = Locations(featurizer, train);
        var labels = trainCells.Select(cell => (int)cell.Scene.Mask[CentrePixel(cell)]).ToList();
        var probe = LinearProbe.Fit(mlContext, trainVectors, labels, l2Regularization);

        var (testVectors, testCells) = Locations(featurizer, test);
        // Key values were assigned in order of first appearance in training; map predictions back to label values.
        var keyToLabel = labels.Distinct().ToList();
        var predicted = probe.Transform(mlContext, testVectors, testCells.Select(_ => 0).ToList())
            .GetColumn<uint>("PredictedLabel").Select(k => (byte)keyToLabel[(int)k - 1]).ToList();
        var (truth, prediction) = Upsample(test, testCells, predicted, s => s.Mask);
        return DenseMetrics.Segmentation(truth, prediction, classes);
    }

    /// <summary>Depth estimation with RMSE, AbsRel and δ &lt; 1.25 on the test scenes.</summary>
    public static DepthScores Depth(MLContext mlContext, DenseFeaturizer featurizer, IReadOnlyList<SceneImage> train,
        IReadOnlyList<SceneImage> test, float l2Regularization = 1e-3f)
    {
        var (trainVectors, trainCells) = Locations(featurizer, train);
        var dimensions = FeatureTable.Informative(trainVectors);
        var targets = trainCells.Select(cell => CellMean(cell, s => s.Depth)).ToList();
        var model = mlContext.Transforms.NormalizeMinMax("Features")
            .Append(mlContext.Regression.Trainers.Sdca(new SdcaRegressionTrainer.Options
            {
                L2Regularization = l2Regularization, MaximumNumberOfIterations = 100, Shuffle = false, NumberOfThreads = 1,
            }))
            .Fit(FeatureTable.Regression(mlContext, FeatureTable.Select(trainVectors, dimensions), targets));

        var (testVectors, testCells) = Locations(featurizer, test);
        var predicted = model.Transform(FeatureTable.Regression(mlContext, FeatureTable.Select(testVectors, dimensions), testCells.Select(_ => 0f).ToList()))
            .GetColumn<float>("Score").ToList();
        var (truth, prediction) = Upsample(test, testCells, predicted, s => s.Depth);
        return DenseMetrics.Depth(truth, prediction);
    }

    /// <summary>One feature-map location of one scene.</summary>
    private sealed record Cell(SceneImage Scene, int Y, int X, int Height, int Width);

    private static (List<float[]> Vectors, List<Cell> Cells) Locations(DenseFeaturizer featurizer, IReadOnlyList<SceneImage> scenes)
    {
        if (scenes.Count == 0) throw new ArgumentException("Dense probes need at least one scene in each set.");
        var maps = ImageFeaturizers.FeaturizeAndRelease(featurizer.Invoke, scenes.Select(SpatialScenes.ToMLImage).ToList());
        if (maps.Length != scenes.Count) throw new InvalidOperationException($"The featuriser returned {maps.Length} maps for {scenes.Count} images.");
        var vectors = new List<float[]>();
        var cells = new List<Cell>();
        for (int i = 0; i < scenes.Count; i++)
        for (int y = 0; y < maps[i].Height; y++)
        for (int x = 0; x < maps[i].Width; x++)
        {
            vectors.Add(maps[i].At(y, x));
            cells.Add(new Cell(scenes[i], y, x, maps[i].Height, maps[i].Width));
        }
        return (vectors, cells);
    }

    private static int CentrePixel(Cell cell)
    {
        int px = (int)((cell.X + 0.5) * cell.Scene.Width / cell.Width);
        int py = (int)((cell.Y + 0.5) * cell.Scene.Height / cell.Height);
        return py * cell.Scene.Width + px;
    }

    private static float CellMean(Cell cell, Func<SceneImage, float[]> values)
    {
        var (x0, x1, y0, y1) = Bounds(cell);
        double sum = 0;
        for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            sum += values(cell.Scene)[y * cell.Scene.Width + x];
        return (float)(sum / ((x1 - x0) * (y1 - y0)));
    }

    private static (int X0, int X1, int Y0, int Y1) Bounds(Cell cell)
        => (cell.X * cell.Scene.Width / cell.Width, (cell.X + 1) * cell.Scene.Width / cell.Width,
            cell.Y * cell.Scene.Height / cell.Height, (cell.Y + 1) * cell.Scene.Height / cell.Height);

    /// <summary>Every pixel's truth and the prediction of the cell covering it (nearest upsampling).</summary>
    private static (List<T> Truth, List<T> Prediction) Upsample<T>(IReadOnlyList<SceneImage> scenes, List<Cell> cells, List<T> predicted,
        Func<SceneImage, T[]> truthOf)
    {
        var truth = new List<T>();
        var prediction = new List<T>();
        for (int c = 0; c < cells.Count; c++)
        {
            var (x0, x1, y0, y1) = Bounds(cells[c]);
            var values = truthOf(cells[c].Scene);
            for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
            {
                truth.Add(values[y * cells[c].Scene.Width + x]);
                prediction.Add(predicted[c]);
            }
        }
        return (truth, prediction);
    }
}
