using SpatialPrediction.ML.Objectives;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Objectives;

public class MomentumTeacherTests
{
    [Test]
    public void Update_moves_each_teacher_weight_by_the_EMA_formula()
    {
        using var student = nn.Linear(2, 1);
        using var teacher = MomentumTeacher.Copy(student, () => nn.Linear(2, 1));
        using (no_grad())
        {
            student.weight!.copy_(tensor(new float[] { 1, 2 }).reshape(1, 2));
            teacher.weight!.copy_(tensor(new float[] { 3, -1 }).reshape(1, 2));
        }

        MomentumTeacher.Update(teacher, student, 0.9);

        // 0.9·[3, −1] + 0.1·[1, 2] = [2.8, −0.7]
        teacher.weight!.data<float>().ToArray().Should().BeEquivalentTo(new[] { 2.8f, -0.7f }, o => o.Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-6f)).WhenTypeIs<float>());
        teacher.parameters().Should().OnlyContain(p => !p.requires_grad);
    }

    [Test]
    public void Copy_starts_the_teacher_equal_to_the_student()
    {
        using var student = nn.Linear(3, 2);
        using var teacher = MomentumTeacher.Copy(student, () => nn.Linear(3, 2));

        teacher.weight!.allclose(student.weight!, rtol: 0, atol: 0).Should().BeTrue();
    }

    [Test]
    public void Momentum_rises_from_its_base_to_one_by_a_cosine()
    {
        MomentumTeacher.Schedule(0.99, 0, 100).Should().BeApproximately(0.99, 1e-12);
        MomentumTeacher.Schedule(0.99, 50, 100).Should().BeApproximately(0.995, 1e-12);
        MomentumTeacher.Schedule(0.99, 100, 100).Should().BeApproximately(1.0, 1e-12);
    }
}
