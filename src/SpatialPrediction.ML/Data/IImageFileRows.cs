namespace SpatialPrediction.ML.Data;

/// <summary>
/// A data view whose image column is read from files, row by row, so a trainer can read any row again by its path
/// (what <see cref="TrainingImageCache.None"/> needs) instead of keeping the decoded pictures.
/// </summary>
internal interface IImageFileRows
{
    /// <summary>The file of each row, in row order.</summary>
    IReadOnlyList<string> ImagePaths { get; }

    /// <summary>The column that holds the decoded image of each file.</summary>
    string ImageColumnName { get; }
}
