using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using SpatialPrediction.ML.Data;

namespace SpatialPrediction.ML.Evaluation;

// Dense probes on frozen spatial features: a linear classifier (segmentation) or a linear regressor (depth) applied
// independently at every feature-map location, trained on the truth sampled at the locations of the training scenes,
// its grid of predictions upsampled (nearest) to full resolution and scored against the full-resolution truth.
public static partial class SpatialEvaluation
{
    /// <summary>Semantic segmentation (background + each class) with mIoU and pixel accuracy on the test scenes.</summary>
    public static SegmentationScores SegmentationProbe(MLContext mlContext, DenseFeaturizer featurizer, IReadOnlyList<SceneImage> train,
        IReadOnlyList<SceneImage> test, float l2Regularization = 0.01f)
    {
        int classes = Enum.GetValues<SceneShape>().Length + 1;
        return Segmentation(mlContext, featurizer, Pictures(train), Pictures(test), classes, l2Regularization);
    }

    /// <summary>
    /// Foreground segmentation (background, object) of composites with mIoU and pixel accuracy on the test composites:
    /// does the feature map know which locations show the object? The composites' images are not disposed.
    /// </summary>
    public static SegmentationScores ForegroundSegmentationProbe(MLContext mlContext, DenseFeaturizer featurizer, IReadOnlyList<ObjectComposite> train,
        IReadOnlyList<ObjectComposite> test, float l2Regularization = 0.01f)
        => Segmentation(mlContext, featurizer, Pictures(train), Pictures(test), 2, l2Regularization);

    private static SegmentationScores Segmentation(MLContext mlContext, DenseFeaturizer featurizer, IReadOnlyList<Picture> train,
        IReadOnlyList<Picture> test, int classes, float l2Regularization)
    {
        var (trainVectors, trainCells) = Locations(featurizer, train);
        var labels = trainCells.Select(cell => (int)cell.Picture.Mask[CentrePixel(cell)]).ToList();
        if (labels.Distinct().Count() < 2)
            throw new ArgumentException($"The training pictures' feature-map locations all show class {labels[0]}; a segmentation probe needs at least two classes.", nameof(train));
        var probe = FitLinearProbe(mlContext, trainVectors, labels, l2Regularization);

        var (testVectors, testCells) = Locations(featurizer, test);
        // Key values were assigned in order of first appearance in training; map predictions back to label values.
        var keyToLabel = labels.Distinct().ToList();
        var predicted = probe.Transform(mlContext, testVectors, testCells.Select(_ => 0).ToList())
            .GetColumn<uint>("PredictedLabel").Select(k => (byte)keyToLabel[(int)k - 1]).ToList();
        var (truth, prediction) = Upsample(testCells, predicted, p => p.Mask);
        return ScoreSegmentation(truth, prediction, classes);
    }

    /// <summary>Depth estimation with RMSE, AbsRel and δ &lt; 1.25 on the test scenes.</summary>
    public static DepthScores DepthProbe(MLContext mlContext, DenseFeaturizer featurizer, IReadOnlyList<SceneImage> train,
        IReadOnlyList<SceneImage> test, float l2Regularization = 1e-3f)
    {
        var (trainVectors, trainCells) = Locations(featurizer, Pictures(train));
        var dimensions = FeatureTable.Informative(trainVectors);
        var targets = trainCells.Select(cell => CellMean(cell, p => p.Depth!)).ToList();
        var model = mlContext.Transforms.NormalizeMinMax("Features")
            .Append(mlContext.Regression.Trainers.Sdca(new SdcaRegressionTrainer.Options
            {
                L2Regularization = l2Regularization, MaximumNumberOfIterations = 100, Shuffle = false, NumberOfThreads = 1,
            }))
            .Fit(FeatureTable.Regression(mlContext, FeatureTable.Select(trainVectors, dimensions), targets));

        var (testVectors, testCells) = Locations(featurizer, Pictures(test));
        var predicted = model.Transform(FeatureTable.Regression(mlContext, FeatureTable.Select(testVectors, dimensions), testCells.Select(_ => 0f).ToList()))
            .GetColumn<float>("Score").ToList();
        var (truth, prediction) = Upsample(testCells, predicted, p => p.Depth!);
        return ScoreDepth(truth, prediction);
    }

    /// <summary>A picture with its truth: a class per pixel and, for scenes, a depth per pixel; <paramref name="Image"/> makes the MLImage to featurise.</summary>
    private sealed record Picture(int Width, int Height, byte[] Mask, float[]? Depth, Func<MLImage> Image, bool Owned);

    private static List<Picture> Pictures(IReadOnlyList<SceneImage> scenes)
        => scenes.Select(s => new Picture(s.Width, s.Height, s.Mask, s.Depth, () => SpatialScenes.ToMLImage(s), Owned: true)).ToList();

    private static List<Picture> Pictures(IReadOnlyList<ObjectComposite> composites)
        => composites.Select(c => new Picture(c.Image.Width, c.Image.Height, c.Mask, null, () => c.Image, Owned: false)).ToList();

    /// <summary>One feature-map location of one picture.</summary>
    private sealed record Cell(Picture Picture, int Y, int X, int Height, int Width);

    private static (List<float[]> Vectors, List<Cell> Cells) Locations(DenseFeaturizer featurizer, IReadOnlyList<Picture> pictures)
    {
        if (pictures.Count == 0) throw new ArgumentException("Dense probes need at least one picture in each set.");
        var images = pictures.Select(p => p.Image()).ToList();
        FeatureMap[] maps;
        try
        {
            maps = featurizer(images);
        }
        finally
        {
            for (int i = 0; i < images.Count; i++)
                if (pictures[i].Owned) images[i].Dispose();
        }
        if (maps.Length != pictures.Count) throw new InvalidOperationException($"The featuriser returned {maps.Length} maps for {pictures.Count} images.");
        var vectors = new List<float[]>();
        var cells = new List<Cell>();
        for (int i = 0; i < pictures.Count; i++)
        for (int y = 0; y < maps[i].Height; y++)
        for (int x = 0; x < maps[i].Width; x++)
        {
            vectors.Add(maps[i].At(y, x));
            cells.Add(new Cell(pictures[i], y, x, maps[i].Height, maps[i].Width));
        }
        return (vectors, cells);
    }

    private static int CentrePixel(Cell cell)
    {
        int px = (int)((cell.X + 0.5) * cell.Picture.Width / cell.Width);
        int py = (int)((cell.Y + 0.5) * cell.Picture.Height / cell.Height);
        return py * cell.Picture.Width + px;
    }

    private static float CellMean(Cell cell, Func<Picture, float[]> values)
    {
        var (x0, x1, y0, y1) = Bounds(cell);
        double sum = 0;
        for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            sum += values(cell.Picture)[y * cell.Picture.Width + x];
        return (float)(sum / ((x1 - x0) * (y1 - y0)));
    }

    private static (int X0, int X1, int Y0, int Y1) Bounds(Cell cell)
        => (cell.X * cell.Picture.Width / cell.Width, (cell.X + 1) * cell.Picture.Width / cell.Width,
            cell.Y * cell.Picture.Height / cell.Height, (cell.Y + 1) * cell.Picture.Height / cell.Height);

    /// <summary>Every pixel's truth and the prediction of the cell covering it (nearest upsampling).</summary>
    private static (List<T> Truth, List<T> Prediction) Upsample<T>(List<Cell> cells, List<T> predicted, Func<Picture, T[]> truthOf)
    {
        var truth = new List<T>();
        var prediction = new List<T>();
        for (int c = 0; c < cells.Count; c++)
        {
            var (x0, x1, y0, y1) = Bounds(cells[c]);
            var values = truthOf(cells[c].Picture);
            for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
            {
                truth.Add(values[y * cells[c].Picture.Width + x]);
                prediction.Add(predicted[c]);
            }
        }
        return (truth, prediction);
    }
}
