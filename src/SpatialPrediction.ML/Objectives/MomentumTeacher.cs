using SpatialPrediction.ML.Backbones;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// Exponential moving average of a student's weights, as MoCo, BYOL and DINO keep for their teacher:
/// θ_teacher ← m·θ_teacher + (1 − m)·θ_student, with m rising from a base value to 1 by a cosine over training.
/// </summary>
internal static class MomentumTeacher
{
    /// <summary>A frozen copy of <paramref name="student"/>'s weights in a new module built by <paramref name="create"/>.</summary>
    public static T Copy<T>(T student, Func<T> create) where T : nn.Module
    {
        var teacher = create();
        teacher.load_state_dict(student.state_dict());
        foreach (var parameter in teacher.parameters()) parameter.requires_grad = false;
        return teacher;
    }

    /// <summary>Moves every parameter of <paramref name="teacher"/> towards the matching one of <paramref name="student"/>.</summary>
    public static void Update(nn.Module teacher, nn.Module student, double momentum)
    {
        using var noGrad = no_grad();
        var teacherParameters = teacher.parameters().ToList();
        var studentParameters = student.parameters().ToList();
        if (teacherParameters.Count != studentParameters.Count)
            throw new InvalidOperationException("Teacher and student have different architectures.");
        // Held for the whole loop: implicit per-call scalars can be finalised while libtorch reads them (see ProcessScalars).
        using TorchSharp.Scalar keep = TorchSharp.ScalarExtensionMethods.ToScalar(momentum), take = TorchSharp.ScalarExtensionMethods.ToScalar(1 - momentum);
        for (int i = 0; i < teacherParameters.Count; i++)
            teacherParameters[i].mul_(keep).add_(studentParameters[i], alpha: take);
    }

    /// <summary>The momentum at <paramref name="step"/> of <paramref name="totalSteps"/>: base → 1 by a half cosine.</summary>
    public static double Schedule(double baseMomentum, int step, int totalSteps)
        => 1 - (1 - baseMomentum) * (Math.Cos(Math.PI * step / Math.Max(1, totalSteps)) + 1) / 2;
}
