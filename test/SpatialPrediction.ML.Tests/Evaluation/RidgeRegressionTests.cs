using SpatialPrediction.ML.Evaluation;

namespace SpatialPrediction.ML.Tests.Evaluation;

public class RidgeRegressionTests
{
    private static (List<float[]> X, List<float[]> Y) Data(int rows, int dims, Func<float[], Random, float[]> target, int seed)
    {
        var random = new Random(seed);
        var x = Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, dims).Select(_ => (float)random.NextDouble()).ToArray()).ToList();
        return (x, x.Select(row => target(row, random)).ToList());
    }

    private static double RSquared(RidgeModel model, List<float[]> x, List<float[]> y, int target)
    {
        var predicted = model.Predict(x);
        double mean = y.Average(r => r[target]);
        return 1 - y.Select((r, i) => Math.Pow(predicted[i][target] - r[target], 2)).Sum() / y.Sum(r => Math.Pow(r[target] - mean, 2));
    }

    [Test]
    public void Recovers_a_linear_signal_and_picks_a_small_penalty_for_it()
    {
        static float[] Target(float[] x, Random r) => new[] { 3 * x[0] - 2 * x[1] + 0.01f * (float)r.NextDouble(), x[2] };
        var (x, y) = Data(200, 10, Target, 1);
        var (testX, testY) = Data(100, 10, Target, 2);

        var model = RidgeRegression.FitCrossValidated(x, y, Enumerable.Range(0, 200).Select(i => i / 4).ToList());

        RSquared(model, testX, testY, 0).Should().BeGreaterThan(0.99);
        RSquared(model, testX, testY, 1).Should().BeGreaterThan(0.99);
        model.Penalties.Should().OnlyContain(p => p <= 1);
    }

    [Test]
    public void On_pure_noise_with_more_dimensions_than_rows_it_shrinks_towards_the_mean_instead_of_overfitting()
    {
        static float[] Target(float[] x, Random r) => new[] { (float)r.NextDouble() };
        var (x, y) = Data(60, 300, Target, 3);
        var (testX, testY) = Data(200, 300, Target, 4);

        var crossValidated = RidgeRegression.FitCrossValidated(x, y, Enumerable.Range(0, 60).Select(i => i / 4).ToList());
        var barelyPenalised = RidgeRegression.Fit(x, y, new[] { 0.01 });

        crossValidated.Penalties[0].Should().BeGreaterThanOrEqualTo(1000);
        RSquared(crossValidated, testX, testY, 0).Should().BeInRange(-0.1, 0.05);
        RSquared(barelyPenalised, testX, testY, 0).Should().BeLessThan(-0.3, "the unpenalised fit is what cross-validation protects against");
    }

    [Test]
    public void Each_target_gets_its_own_penalty()
    {
        static float[] Target(float[] x, Random r) => new[] { x[0], (float)r.NextDouble() };
        var (x, y) = Data(120, 40, Target, 5);

        var model = RidgeRegression.FitCrossValidated(x, y, Enumerable.Range(0, 120).Select(i => i / 2).ToList());

        model.Penalties[0].Should().BeLessThan(model.Penalties[1]);
    }

    [Test]
    public void Bad_shapes_and_too_few_groups_are_rejected()
    {
        var x = new List<float[]> { new[] { 1f }, new[] { 2f } };
        var y = new List<float[]> { new[] { 1f }, new[] { 2f } };

        var oneGroup = () => RidgeRegression.FitCrossValidated(x, y, new[] { 0, 0 });
        var mismatch = () => RidgeRegression.FitCrossValidated(x, y.Take(1).ToList(), new[] { 0, 1 });
        var ragged = () => RidgeRegression.Fit(new List<float[]> { new[] { 1f }, new[] { 1f, 2f } }, y, new[] { 1.0 });

        oneGroup.Should().Throw<ArgumentException>().WithMessage("*at least 2 groups*");
        mismatch.Should().Throw<ArgumentException>().WithMessage("*2 rows but 1 target rows*");
        ragged.Should().Throw<ArgumentException>().WithMessage("*differ in length*");
    }
}
