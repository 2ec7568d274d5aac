using SpatialPrediction.ML.Training;

namespace SpatialPrediction.ML.Tests.Training;

public class CosineScheduleTests
{
    [Test]
    public void Warms_up_linearly_then_decays_by_cosine_to_the_final_fraction()
    {
        var schedule = new CosineSchedule(1.0, TotalSteps: 110, WarmupSteps: 10, FinalFraction: 0.1);

        schedule.At(0).Should().BeApproximately(0.1, 1e-9);
        schedule.At(9).Should().BeApproximately(1.0, 1e-9);
        schedule.At(10).Should().BeApproximately(1.0, 1e-9);
        schedule.At(60).Should().BeApproximately(0.1 + 0.9 * 0.5, 1e-9);
        schedule.At(110).Should().BeApproximately(0.1, 1e-9);
        Enumerable.Range(10, 100).Select(schedule.At).Should().BeInDescendingOrder();
    }
}
