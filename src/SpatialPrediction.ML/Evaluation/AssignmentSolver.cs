namespace SpatialPrediction.ML.Evaluation;

/// <summary>
/// Minimum-cost perfect matching of n rows to n columns (the Hungarian method with potentials, O(n³)); used to turn
/// per-tile position scores into a valid permutation.
/// </summary>
internal static class AssignmentSolver
{
    /// <summary>For a square cost matrix, the column assigned to each row, minimising the total cost.</summary>
    public static int[] Solve(double[,] cost)
    {
        int n = cost.GetLength(0);
        if (cost.GetLength(1) != n) throw new ArgumentException($"Cost matrix must be square; got {n}×{cost.GetLength(1)}.", nameof(cost));
        if (n == 0) return Array.Empty<int>();
        // 1-based potentials u (rows), v (columns); way[] remembers the augmenting path; match[col] = row.
        var u = new double[n + 1];
        var v = new double[n + 1];
        var match = new int[n + 1];
        var way = new int[n + 1];
        for (int row = 1; row <= n; row++)
        {
            match[0] = row;
            int column0 = 0;
            var minimum = Enumerable.Repeat(double.PositiveInfinity, n + 1).ToArray();
            var used = new bool[n + 1];
            do
            {
                used[column0] = true;
                int row0 = match[column0], column1 = 0;
                double delta = double.PositiveInfinity;
                for (int column = 1; column <= n; column++)
                {
                    if (used[column]) continue;
                    double reduced = cost[row0 - 1, column - 1] - u[row0] - v[column];
                    if (reduced < minimum[column])
                    {
                        minimum[column] = reduced;
                        way[column] = column0;
                    }
                    if (minimum[column] < delta)
                    {
                        delta = minimum[column];
                        column1 = column;
                    }
                }
                for (int column = 0; column <= n; column++)
                {
                    if (used[column])
                    {
                        u[match[column]] += delta;
                        v[column] -= delta;
                    }
                    else minimum[column] -= delta;
                }
                column0 = column1;
            } while (match[column0] != 0);
            do
            {
                int column1 = way[column0];
                match[column0] = match[column1];
                column0 = column1;
            } while (column0 != 0);
        }
        var assignment = new int[n];
        for (int column = 1; column <= n; column++) assignment[match[column] - 1] = column - 1;
        return assignment;
    }
}
