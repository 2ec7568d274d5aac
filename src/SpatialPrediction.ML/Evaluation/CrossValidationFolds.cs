namespace SpatialPrediction.ML.Evaluation;

/// <summary>Which fold each row falls in: rows shuffled by a seeded permutation and dealt out in turn, so folds differ in size by at most one.</summary>
internal static class CrossValidationFolds
{
    /// <summary>The fold (0 to <paramref name="folds"/> − 1) of each of <paramref name="count"/> rows.</summary>
    public static int[] Assign(int count, int folds, int seed)
    {
        var order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        var fold = new int[count];
        for (int position = 0; position < order.Length; position++) fold[order[position]] = position % folds;
        return fold;
    }
}
