using SpatialPrediction.ML.Evaluation;

namespace SpatialPrediction.ML.Tests.Evaluation;

public class AssignmentSolverTests
{
    [Test]
    public void Recovers_the_permutation_when_the_scores_are_perfect()
    {
        int[] truth = { 2, 0, 3, 1 };
        var cost = new double[4, 4];
        for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++)
            cost[r, c] = c == truth[r] ? 0 : 1;

        AssignmentSolver.Solve(cost).Should().Equal(truth);
    }

    [Test]
    public void Finds_the_minimum_total_cost_that_brute_force_finds()
    {
        var random = new Random(4);
        for (int trial = 0; trial < 30; trial++)
        {
            int n = 2 + trial % 5;
            var cost = new double[n, n];
            for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++)
                cost[r, c] = random.NextDouble() * 10;

            var assignment = AssignmentSolver.Solve(cost);

            assignment.Distinct().Should().HaveCount(n, "a valid permutation");
            double total = Enumerable.Range(0, n).Sum(r => cost[r, assignment[r]]);
            total.Should().BeApproximately(BruteForce(cost, n), 1e-9);
        }
    }

    private static double BruteForce(double[,] cost, int n)
    {
        double best = double.PositiveInfinity;
        void Search(int row, bool[] used, double sum)
        {
            if (row == n)
            {
                best = Math.Min(best, sum);
                return;
            }
            for (int c = 0; c < n; c++)
            {
                if (used[c]) continue;
                used[c] = true;
                Search(row + 1, used, sum + cost[row, c]);
                used[c] = false;
            }
        }
        Search(0, new bool[n], 0);
        return best;
    }
}
