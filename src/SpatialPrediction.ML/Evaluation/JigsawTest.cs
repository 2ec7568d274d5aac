using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML.MLNet;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Evaluation;

/// <summary>Settings of <see cref="SpatialEvaluation.JigsawTest"/>.</summary>
public sealed record JigsawOptions
{
    /// <summary>Tiles per side (2 or 3 in the paper). Default 2.</summary>
    public int Grid { get; init; } = 2;
    /// <summary>Side in pixels of each tile; images are resized to Grid × this first. Default 32.</summary>
    public int TileResolution { get; init; } = 32;
    /// <summary>Share of the images that train the probes; the rest are shuffled and tested. Default 0.5.</summary>
    public double TrainFraction { get; init; } = 0.5;
    /// <summary>Seed of the shuffles. Default 1.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>L2 regularisation of both linear probes (see <c>SpatialEvaluation.LinearProbe</c>). Default 0.01.</summary>
    public float ProbeL2Regularization { get; init; } = 0.01f;
}

/// <summary>The jigsaw test's scores on the held-out images.</summary>
/// <param name="Grid">Tiles per side.</param>
/// <param name="TileAccuracy">Share of tiles placed at their true position by the decoded permutation.</param>
/// <param name="PermutationAccuracy">Share of images whose whole permutation was recovered.</param>
/// <param name="OriginalAccuracy">Recognition accuracy of the image-level linear probe on the original images.</param>
/// <param name="ShuffledAccuracy">The same probe on the shuffled images.</param>
/// <param name="ReconstructedAccuracy">The same probe on the images reassembled from the decoded permutation.</param>
public sealed record JigsawReport(int Grid, double TileAccuracy, double PermutationAccuracy,
    double OriginalAccuracy, double ShuffledAccuracy, double ReconstructedAccuracy);

public static partial class SpatialEvaluation
{
    /// <summary>Runs the test on labelled images.</summary>
    /// <remarks>
    /// Spatial test 2 of the SP paper, jigsaw understanding: cut each image into g×g tiles and shuffle them; a linear
    /// probe on frozen tile features predicts each tile's position; an assignment solver decodes a valid permutation from
    /// the probe's log-probabilities; the original, shuffled and reconstructed images are then classified by one linear
    /// probe fitted on original training images.
    /// </remarks>
    public static JigsawReport JigsawTest(MLContext mlContext, ImageFeaturizer featurizer, IReadOnlyList<MLImage> images, IReadOnlyList<int> labels,
        JigsawOptions? options = null)
    {
        options ??= new JigsawOptions();
        if (options.Grid < 2 || options.Grid > 6) throw new ArgumentOutOfRangeException(nameof(options), options.Grid, "Grid must be between 2 and 6.");
        if (images.Count != labels.Count) throw new ArgumentException($"JigsawTest: {images.Count} images but {labels.Count} labels.");
        if (images.Count < 4) throw new ArgumentException("JigsawTest needs at least 4 images.", nameof(images));
        int g = options.Grid, tiles = g * g, side = g * options.TileResolution;
        int trainCount = Math.Clamp((int)Math.Round(images.Count * options.TrainFraction), 2, images.Count - 2);

        var planes = images.Select((image, i) => ImageColumn.ToRgbPlanes(image, side, "(images)", i, nameof(JigsawTest))).ToList();

        // Tile-position probe, fitted on the tiles of the training images.
        var trainTiles = new List<float[]>();
        var trainPositions = new List<int>();
        for (int i = 0; i < trainCount; i++)
        {
            trainTiles.AddRange(Featurize(featurizer, Tiles(planes[i], g, options.TileResolution)));
            trainPositions.AddRange(Enumerable.Range(0, tiles));
        }
        var positionProbe = FitLinearProbe(mlContext, trainTiles, trainPositions, options.ProbeL2Regularization);

        // Image-level recognition probe, fitted on whole training images.
        var wholeTrain = Featurize(featurizer, planes.Take(trainCount).Select(p => (p, side)).ToList());
        var recognition = FitLinearProbe(mlContext, wholeTrain, labels.Take(trainCount).ToList(), options.ProbeL2Regularization);

        int placed = 0, exact = 0, testCount = images.Count - trainCount;
        var shuffledImages = new List<(byte[], int)>();
        var reconstructed = new List<(byte[], int)>();
        for (int i = trainCount; i < images.Count; i++)
        {
            var order = Enumerable.Range(0, tiles).ToArray();
            SeedStreams.For(options.Seed, SeedStreams.Validation, i).Shuffle(order); // slot s shows tile order[s]
            var tileImages = Tiles(planes[i], g, options.TileResolution);
            var shownTiles = order.Select(t => tileImages[t]).ToList();
            var logProbabilities = Scores(mlContext, positionProbe, Featurize(featurizer, shownTiles), tiles);
            var cost = new double[tiles, tiles];
            for (int s = 0; s < tiles; s++)
            for (int p = 0; p < tiles; p++)
                cost[s, p] = -logProbabilities[s][p];
            var decoded = AssignmentSolver.Solve(cost); // slot s → position decoded[s]
            int right = Enumerable.Range(0, tiles).Count(s => decoded[s] == order[s]);
            placed += right;
            if (right == tiles) exact++;
            shuffledImages.Add((Assemble(shownTiles, Enumerable.Range(0, tiles).ToArray(), g, options.TileResolution), side));
            reconstructed.Add((Assemble(shownTiles, decoded, g, options.TileResolution), side));
        }

        var testLabels = labels.Skip(trainCount).ToList();
        double Accuracy(List<(byte[], int)> set) => Score(mlContext, recognition, Featurize(featurizer, set), testLabels);
        var originals = planes.Skip(trainCount).Select(p => (p, side)).ToList();
        return new JigsawReport(g, (double)placed / (testCount * tiles), (double)exact / testCount,
            Accuracy(originals), Accuracy(shuffledImages), Accuracy(reconstructed));
    }

    /// <summary>The g×g tiles of a square planar image, row by row, each (planes, side).</summary>
    private static List<(byte[] Planes, int Side)> Tiles(byte[] planes, int g, int tile)
    {
        int side = g * tile, plane = side * side, tilePlane = tile * tile;
        var result = new List<(byte[], int)>();
        for (int ty = 0; ty < g; ty++)
        for (int tx = 0; tx < g; tx++)
        {
            var t = new byte[3 * tilePlane];
            for (int c = 0; c < 3; c++)
            for (int y = 0; y < tile; y++)
                Array.Copy(planes, c * plane + (ty * tile + y) * side + tx * tile, t, c * tilePlane + y * tile, tile);
            result.Add((t, tile));
        }
        return result;
    }

    /// <summary>A square image with tile k placed at grid position positions[k].</summary>
    private static byte[] Assemble(IReadOnlyList<(byte[] Planes, int Side)> tiles, int[] positions, int g, int tile)
    {
        int side = g * tile, plane = side * side, tilePlane = tile * tile;
        var image = new byte[3 * plane];
        for (int k = 0; k < tiles.Count; k++)
        {
            int ty = positions[k] / g, tx = positions[k] % g;
            for (int c = 0; c < 3; c++)
            for (int y = 0; y < tile; y++)
                Array.Copy(tiles[k].Planes, c * tilePlane + y * tile, image, c * plane + (ty * tile + y) * side + tx * tile, tile);
        }
        return image;
    }

    private static float[][] Featurize(ImageFeaturizer featurizer, IReadOnlyList<(byte[] Planes, int Side)> images)
    {
        return FeaturizeAndRelease(featurizer.Invoke, images.Select(i => ToMLImage(i.Planes, i.Side)).ToList());
    }

    private static MLImage ToMLImage(byte[] planes, int side)
    {
        using var scope = NewDisposeScope();
        return ImageColumn.ToMLImage(tensor(planes, new long[] { 3, side, side }, dtype: ScalarType.Byte).to_type(ScalarType.Float32) / 255f);
    }

    /// <summary>Per-row log-probabilities over the <paramref name="classes"/> label values 0..classes−1.</summary>
    private static double[][] Scores(MLContext mlContext, FittedLinearProbe probe, IReadOnlyList<float[]> features, int classes)
    {
        var scored = probe.Transform(mlContext, features, Enumerable.Range(0, features.Count).Select(i => i % classes).ToList());
        // The key mapping orders labels as first seen in training (0, 1, ..., classes − 1), so score slot k is label k.
        return scored.GetColumn<float[]>("Score").Select(s => s.Select(p => Math.Log(Math.Max(p, 1e-12))).ToArray()).ToArray();
    }

    private static double Score(MLContext mlContext, FittedLinearProbe probe, IReadOnlyList<float[]> features, IReadOnlyList<int> labels)
        => probe.Evaluate(mlContext, features, labels).MicroAccuracy;
}
