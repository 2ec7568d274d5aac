namespace SpatialPrediction.ML.Evaluation;

/// <summary>Segmentation scores: mean IoU over classes present in the truth or the prediction, and pixel accuracy.</summary>
/// <param name="MeanIoU">Mean over classes with a non-empty union of intersection / union.</param>
/// <param name="PixelAccuracy">Share of pixels labelled right.</param>
/// <param name="ClassIoU">IoU per class (NaN where the class appears in neither truth nor prediction).</param>
public sealed record SegmentationScores(double MeanIoU, double PixelAccuracy, IReadOnlyList<double> ClassIoU);

/// <summary>Depth scores as in monocular depth estimation.</summary>
/// <param name="Rmse">Root mean squared error.</param>
/// <param name="AbsRel">Mean of |prediction − truth| / truth.</param>
/// <param name="Delta125">Share of pixels with max(prediction / truth, truth / prediction) &lt; 1.25.</param>
public sealed record DepthScores(double Rmse, double AbsRel, double Delta125);

// The dense-prediction metrics, on flat per-pixel arrays.
public static partial class SpatialEvaluation
{
    /// <summary>Scores predicted class labels against true ones (values 0 … classCount − 1).</summary>
    public static SegmentationScores ScoreSegmentation(IReadOnlyList<byte> truth, IReadOnlyList<byte> predicted, int classCount)
    {
        if (truth.Count != predicted.Count) throw new ArgumentException($"{truth.Count} true labels but {predicted.Count} predictions.");
        if (truth.Count == 0) throw new ArgumentException("No pixels to score.");
        var intersection = new long[classCount];
        var union = new long[classCount];
        long right = 0;
        for (int i = 0; i < truth.Count; i++)
        {
            int t = truth[i], p = predicted[i];
            if (t >= classCount || p >= classCount) throw new ArgumentOutOfRangeException(nameof(truth), $"Label {Math.Max(t, p)} at pixel {i} is not below classCount {classCount}.");
            if (t == p)
            {
                right++;
                intersection[t]++;
                union[t]++;
            }
            else
            {
                union[t]++;
                union[p]++;
            }
        }
        var iou = Enumerable.Range(0, classCount).Select(c => union[c] == 0 ? double.NaN : (double)intersection[c] / union[c]).ToList();
        return new SegmentationScores(iou.Where(v => !double.IsNaN(v)).Average(), (double)right / truth.Count, iou);
    }

    /// <summary>Scores predicted depths against true (positive) depths.</summary>
    public static DepthScores ScoreDepth(IReadOnlyList<float> truth, IReadOnlyList<float> predicted)
    {
        if (truth.Count != predicted.Count) throw new ArgumentException($"{truth.Count} true depths but {predicted.Count} predictions.");
        if (truth.Count == 0) throw new ArgumentException("No pixels to score.");
        double squared = 0, relative = 0;
        long within = 0;
        for (int i = 0; i < truth.Count; i++)
        {
            double t = truth[i], p = predicted[i];
            if (!(t > 0)) throw new ArgumentOutOfRangeException(nameof(truth), $"True depth at pixel {i} is {t}; depths must be positive.");
            squared += (p - t) * (p - t);
            relative += Math.Abs(p - t) / t;
            if (p > 0 && Math.Max(p / t, t / p) < 1.25) within++;
        }
        return new DepthScores(Math.Sqrt(squared / truth.Count), relative / truth.Count, (double)within / truth.Count);
    }
}
