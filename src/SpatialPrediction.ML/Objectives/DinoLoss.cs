using static TorchSharp.torch;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// DINO's self-distillation loss: for every teacher global view i and every student view j ≠ i,
/// cross-entropy between the centred, sharpened teacher distribution softmax((t_i − c) / τ_t) and the student's
/// log-softmax(s_j / τ_s), averaged over pairs. Centring (subtracting a running mean c of teacher outputs) prevents one
/// prototype from dominating; sharpening (τ_t &lt; τ_s) prevents the uniform collapse.
/// </summary>
/// <param name="StudentTemperature">τ_s; DINO: 0.1.</param>
/// <param name="TeacherTemperature">τ_t; DINO: 0.04 at the start of its warm-up (kept fixed for short runs).</param>
/// <param name="CenterMomentum">Momentum of the centre's running mean; DINO: 0.9.</param>
internal sealed record DinoLoss(double StudentTemperature = 0.1, double TeacherTemperature = 0.04, double CenterMomentum = 0.9)
{
    /// <summary>Teacher targets: softmax((t − c) / τ_t).</summary>
    public Tensor TeacherTargets(Tensor teacherOutput, Tensor center)
        => ((teacherOutput - center) / TeacherTemperature).softmax(-1);

    /// <summary>
    /// Loss of student outputs (one [B, K] per view, globals first) against teacher outputs of the global views.
    /// </summary>
    public Tensor Compute(IReadOnlyList<Tensor> studentOutputs, IReadOnlyList<Tensor> teacherOutputs, Tensor center)
    {
        Tensor? total = null;
        int pairs = 0;
        for (int i = 0; i < teacherOutputs.Count; i++)
        {
            var targets = TeacherTargets(teacherOutputs[i], center);
            for (int j = 0; j < studentOutputs.Count; j++)
            {
                if (j == i) continue; // a view is never its own target
                var logProbabilities = (studentOutputs[j] / StudentTemperature).log_softmax(-1);
                var term = -(targets * logProbabilities).sum(-1).mean();
                total = total is null ? term : total + term;
                pairs++;
            }
        }
        return total! / pairs;
    }

    /// <summary>c ← m·c + (1 − m)·mean of the teacher outputs over the batch, in place.</summary>
    public void UpdateCenter(Tensor center, IReadOnlyList<Tensor> teacherOutputs)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var batchMean = cat(teacherOutputs.ToArray(), 0).mean(new long[] { 0 }, keepdim: true);
        using TorchSharp.Scalar keep = TorchSharp.ScalarExtensionMethods.ToScalar(CenterMomentum), take = TorchSharp.ScalarExtensionMethods.ToScalar(1 - CenterMomentum);
        center.mul_(keep).add_(batchMean, alpha: take);
    }
}
