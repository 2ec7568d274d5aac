namespace SpatialPrediction.ML.Cli;

/// <summary>The file formats <c>featurize</c> writes.</summary>
internal enum FeatureFileFormat
{
    /// <summary>Apache Parquet: typed columns, compressed.</summary>
    Parquet,

    /// <summary>Comma-separated text with a header row.</summary>
    Csv,
}
