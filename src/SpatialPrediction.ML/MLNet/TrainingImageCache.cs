namespace SpatialPrediction.ML;

/// <summary>Where <c>Fit</c> keeps the training pictures, decoded at <c>ImageCacheShorterSide</c>, while it trains.</summary>
public enum TrainingImageCache
{
    /// <summary>
    /// In memory up to <see cref="PretrainingRuntimeOptions.ImageCacheMemoryLimitMegabytes"/>; past that, every picture
    /// goes to a temporary file that batches are read from, so memory stays flat however large the dataset.
    /// </summary>
    Auto = 0,

    /// <summary>In memory (3 · side² · aspect bytes per picture): the fastest, and memory grows with the dataset.</summary>
    Memory = 1,

    /// <summary>A temporary file (deleted at the end) read per batch: memory a batch, disk 3 · side² · aspect bytes per picture.</summary>
    Disk = 2,

    /// <summary>
    /// Nothing kept: every batch decodes its files again (on <see cref="PretrainingRuntimeOptions.DecodeThreads"/> threads), so
    /// neither memory nor disk grows with the collection and training starts at once; each step pays for decoding its
    /// batch. Needs rows that are files: the data view of an <see cref="Data.ImageDataset"/>. A file that breaks while
    /// training is named in the error, or skipped and listed with <see cref="SpatialPretrainOptions.SkipUnreadableImages"/>.
    /// </summary>
    None = 3,
}
