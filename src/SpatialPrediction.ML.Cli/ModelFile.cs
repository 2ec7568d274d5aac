using Microsoft.ML;
using Microsoft.ML.Data;

namespace SpatialPrediction.ML.Cli;

/// <summary>The <c>--model</c> of a command: an ML.NET zip holding a SpatialPrediction featuriser.</summary>
internal static class ModelFile
{
    public static ITransformer Load(MLContext mlContext, string path)
    {
        if (!File.Exists(path)) throw new UsageException($"{path}: no such model file (write one with 'spatial-prediction pretrain').");
        return mlContext.Model.LoadWithReason(path, out _);
    }

    /// <summary>The featuriser inside a loaded model (the model itself, or a step of a chain).</summary>
    public static SpatialFeaturizerTransformer Featurizer(ITransformer model, string path) => model switch
    {
        SpatialFeaturizerTransformer featurizer => featurizer,
        TransformerChain<ITransformer> chain => chain.OfType<SpatialFeaturizerTransformer>().FirstOrDefault()
            ?? throw new InvalidDataException($"{path}: the model holds no SpatialPrediction featuriser."),
        _ => throw new InvalidDataException($"{path}: the model is a {model.GetType().Name}, not a SpatialPrediction featuriser."),
    };
}
