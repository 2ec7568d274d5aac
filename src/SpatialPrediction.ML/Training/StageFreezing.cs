using SpatialPrediction.ML.Backbones;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Training;

/// <summary>
/// Continued pretraining's brakes on a backbone: the first stages frozen (no gradient, batch norms in eval mode, so
/// their ImageNet statistics stay), and optionally every batch norm's running statistics frozen, so the frozen
/// featuriser normalises with the statistics it was pretrained with rather than with those of augmented views.
/// </summary>
internal sealed class StageFreezing
{
    private readonly BackboneModule backbone;
    private readonly List<nn.Module> frozen;
    private readonly bool freezeBatchNormStatistics;

    /// <summary>Freezes the first <paramref name="frozenStages"/> stages of <paramref name="backbone"/> (0: none).</summary>
    public StageFreezing(BackboneModule backbone, int frozenStages, bool freezeBatchNormStatistics)
    {
        this.backbone = backbone;
        this.freezeBatchNormStatistics = freezeBatchNormStatistics;
        var stages = backbone.Stages;
        if (frozenStages > 0 && stages.Count == 0)
            throw new ArgumentException($"FrozenStages = {frozenStages}: the {backbone.Kind} backbone does not define stages to freeze; " +
                                        "use a ResNet (SmallResNet, ResNet18, ResNet50, the ImageNet ResNet-18) or set FrozenStages = 0.");
        if (frozenStages > 0 && frozenStages >= stages.Count)
            throw new ArgumentException($"FrozenStages = {frozenStages}, but the {backbone.Kind} backbone has {stages.Count} stages " +
                                        $"(the stem and {stages.Count - 1} resolution stages); at most {stages.Count - 1} can be frozen so that something trains.");
        frozen = stages.Take(frozenStages).SelectMany(s => s).ToList();
        foreach (var module in frozen)
        foreach (var parameter in module.parameters())
            parameter.requires_grad = false;
    }

    /// <summary>Parameters that still train.</summary>
    public IEnumerable<Parameter> TrainableParameters() => backbone.parameters().Where(p => p.requires_grad);

    /// <summary>Puts the backbone in training mode, except the frozen stages (and every batch norm when its statistics are frozen).</summary>
    public void Train()
    {
        backbone.train();
        foreach (var module in frozen) module.eval();
        if (!freezeBatchNormStatistics) return;
        foreach (var (_, module) in backbone.named_modules())
            if (module is BatchNorm2d or BatchNorm1d) module.eval();
    }
}
