namespace SpatialPrediction.ML.Evaluation;

/// <summary>Top-1 and top-5 accuracy of a k-NN probe.</summary>
/// <param name="Top1">Share of test vectors whose highest-voted class is right.</param>
/// <param name="Top5">Share whose right class is among the five highest-voted.</param>
public sealed record KnnResult(double Top1, double Top5);

public static partial class SpatialEvaluation
{
    /// <summary>Classifies each test vector by its <paramref name="k"/> nearest training vectors.</summary>
    /// <remarks>
    /// k-NN probe on frozen features as in DINO's evaluation: cosine similarity, the k nearest training vectors vote with
    /// weight exp(similarity / τ).
    /// </remarks>
    public static KnnResult KnnProbe(IReadOnlyList<float[]> trainFeatures, IReadOnlyList<int> trainLabels,
        IReadOnlyList<float[]> testFeatures, IReadOnlyList<int> testLabels, int k = 20, double temperature = 0.07)
    {
        int d = FeatureTable.CheckShape(trainFeatures, trainLabels.Count, "KnnProbe training set");
        int dTest = FeatureTable.CheckShape(testFeatures, testLabels.Count, "KnnProbe test set");
        if (d != dTest) throw new ArgumentException($"KnnProbe: training vectors have {d} values, test vectors {dTest}.");
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be positive.");

        var train = trainFeatures.Select(Normalize).ToArray();
        int classes = Math.Max(trainLabels.Max(), testLabels.Max()) + 1;
        int top1 = 0, top5 = 0;
        for (int t = 0; t < testFeatures.Count; t++)
        {
            var query = Normalize(testFeatures[t]);
            var nearest = Enumerable.Range(0, train.Length)
                .Select(i => (Index: i, Similarity: Dot(query, train[i])))
                .OrderByDescending(n => n.Similarity).ThenBy(n => n.Index)
                .Take(k);
            var votes = new double[classes];
            foreach (var (index, similarity) in nearest) votes[trainLabels[index]] += Math.Exp(similarity / temperature);
            var ranked = Enumerable.Range(0, classes).OrderByDescending(c => votes[c]).ThenBy(c => c).ToList();
            if (ranked[0] == testLabels[t]) top1++;
            if (ranked.Take(5).Contains(testLabels[t])) top5++;
        }
        return new KnnResult((double)top1 / testFeatures.Count, (double)top5 / testFeatures.Count);
    }

    private static float[] Normalize(float[] v)
    {
        double norm = Math.Sqrt(v.Sum(x => (double)x * x));
        return norm == 0 ? v : v.Select(x => (float)(x / norm)).ToArray();
    }

    private static double Dot(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return sum;
    }
}
