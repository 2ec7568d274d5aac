using SpatialPrediction.ML.Objectives;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Objectives;

public class DinoLossTests
{
    [Test]
    public void Teacher_targets_are_centred_then_sharpened_by_the_teacher_temperature()
    {
        using var scope = NewDisposeScope();
        var teacher = tensor(new float[] { 1.0f, 0.5f, 0.0f }).reshape(1, 3);
        var center = tensor(new float[] { 0.5f, 0.0f, 0.0f }).reshape(1, 3);
        var loss = new DinoLoss(TeacherTemperature: 0.1);

        var targets = loss.TeacherTargets(teacher, center).data<float>().ToArray();

        // Centred logits (0.5, 0.5, 0) / 0.1 = (5, 5, 0): softmax = (e^5, e^5, 1) / (2e^5 + 1).
        double z = 2 * Math.Exp(5) + 1;
        targets[0].Should().BeApproximately((float)(Math.Exp(5) / z), 1e-5f);
        targets[1].Should().BeApproximately((float)(Math.Exp(5) / z), 1e-5f);
        targets[2].Should().BeApproximately((float)(1 / z), 1e-5f);
    }

    [Test]
    public void A_lower_teacher_temperature_gives_sharper_targets()
    {
        using var scope = NewDisposeScope();
        var teacher = randn(4, 16, generator: new Generator(1));
        var center = zeros(1, 16);

        double Entropy(Tensor p) => -(p * p.clamp_min(1e-12).log()).sum(-1).mean().item<float>();

        Entropy(new DinoLoss(TeacherTemperature: 0.04).TeacherTargets(teacher, center))
            .Should().BeLessThan(Entropy(new DinoLoss(TeacherTemperature: 0.5).TeacherTargets(teacher, center)));
    }

    [Test]
    public void Centre_update_is_the_running_mean_of_teacher_outputs()
    {
        using var scope = NewDisposeScope();
        var center = tensor(new float[] { 1, 1 }).reshape(1, 2);
        var teacher = new[] { tensor(new float[] { 0, 2, 2, 4 }).reshape(2, 2), tensor(new float[] { 4, 6, 6, 8 }).reshape(2, 2) };

        new DinoLoss(CenterMomentum: 0.9).UpdateCenter(center, teacher);

        // Batch mean = (3, 5); 0.9·(1, 1) + 0.1·(3, 5) = (1.2, 1.4).
        var c = center.data<float>().ToArray();
        c[0].Should().BeApproximately(1.2f, 1e-6f);
        c[1].Should().BeApproximately(1.4f, 1e-6f);
    }

    [Test]
    public void Loss_skips_each_views_own_teacher_target_and_averages_over_pairs()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new float[] { 1, 0 }).reshape(1, 2);
        var b = tensor(new float[] { 0, 1 }).reshape(1, 2);
        var loss = new DinoLoss(StudentTemperature: 1, TeacherTemperature: 1);
        var center = zeros(1, 2);

        // Students (a, b), teachers (a, b): pairs (t0, s1) and (t1, s0) only.
        float value = loss.Compute(new[] { a, b }, new[] { a, b }, center).item<float>();

        var pa = new[] { Math.E / (Math.E + 1), 1 / (Math.E + 1) };
        double crossEntropy = -(pa[0] * Math.Log(pa[1]) + pa[1] * Math.Log(pa[0]));
        value.Should().BeApproximately((float)crossEntropy, 1e-5f);
    }
}
