namespace SpatialPrediction.ML.Evaluation;

/// <summary>
/// The evaluation suite in one place: probes on frozen features (linear, k-NN, dense, localisation), the spatial
/// reasoning tests (patch pairs, jigsaw), robustness (corruptions, style shift), and the adapters that turn an ML.NET
/// transformer or a backbone into the featurisers they take (<c>transformer.AsImageFeaturizer()</c>,
/// <c>transformer.AsDenseFeaturizer()</c>). docs/evaluations.md says what each measures and how to read it.
/// </summary>
public static partial class SpatialEvaluation;
