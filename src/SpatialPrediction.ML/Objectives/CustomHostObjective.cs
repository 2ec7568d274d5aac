using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Training;
using SpatialPrediction.ML.Views;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// A user's <see cref="SelfSupervisedObjective"/> as a host of the engine: it makes the views, runs the backbone,
/// shares the first pair with SP, and checks what the user's loss returns.
/// </summary>
internal sealed class CustomHostObjective : HostObjective
{
    /// <summary><see cref="SslFramework.Custom"/> in the engine; λ defaults to SimCLR's, the closest built-in host.</summary>
    internal static HostRegistration Registration { get; } = new(SslFramework.Custom,
        (settings, backbone, _) => new CustomHostObjective(Build(settings, backbone.FeatureDimension), settings.ImageSize),
        Validate: settings =>
        {
            if (settings.CustomObjective is null)
                throw new ArgumentException("Framework is Custom but CustomObjective is not set: give it a function that builds your SelfSupervisedObjective.",
                    nameof(settings.CustomObjective));
        },
        SpatialWeight: SimClrObjective.Registration.SpatialWeight);

    private readonly SelfSupervisedObjective objective;
    private readonly MultiCropSampler views;

    public CustomHostObjective(SelfSupervisedObjective objective, int viewSize) : base(nameof(CustomHostObjective))
    {
        if (objective.ViewCount < 2)
            throw new ArgumentException($"{Describe(objective)}.ViewCount is {objective.ViewCount}; a host objective needs at least 2 views of each picture.",
                nameof(objective));
        this.objective = objective;
        views = new MultiCropSampler(new[] { new CropFamily(objective.ViewCount, new RandomResizedCropSampler(0.2f, 1f), viewSize) },
            new PhotometricAugmentation());
        RegisterComponents();
    }

    /// <inheritdoc />
    public override string Identity => $"{objective.GetType().FullName} \"{objective.GetName()}\" ({objective.ViewCount} views)";

    /// <inheritdoc />
    public override ViewSet MakeViews(PictureBatch pictures, Random random, Device device) => views.Make(pictures, random, device);

    /// <inheritdoc />
    public override CropFamily FirstPairCrops => views.Families[0];

    /// <inheritdoc />
    public override IEnumerable<BackbonePass> BackbonePasses(int batch) => views.Passes(batch);

    /// <inheritdoc />
    public override Tensor Loss(BackboneModule backbone, ViewSet set)
    {
        var features = backbone.forward(cat(set.Views.ToArray(), 0));
        long batch = set.Views[0].shape[0];
        ShareFirstPair(features.narrow(0, 0, 2 * batch), set);
        var loss = objective.Loss(features.chunk(objective.ViewCount, 0));
        if (loss is null || loss.numel() != 1 || !loss.is_floating_point())
            throw new InvalidOperationException($"{Describe(objective)}.Loss must return one floating-point number (a scalar loss); it returned " +
                                                (loss is null ? "null." : $"a {loss.dtype} tensor of shape [{string.Join(", ", loss.shape)}]."));
        if (is_grad_enabled() && !loss.requires_grad)
            throw new InvalidOperationException($"{Describe(objective)}.Loss returned a loss with no gradient: it must be computed from the view features it is given.");
        return loss.reshape(Array.Empty<long>());
    }

    private static SelfSupervisedObjective Build(PretrainingSettings settings, long featureDimension)
    {
        var build = settings.CustomObjective!;
        return build(checked((int)featureDimension))
               ?? throw new InvalidOperationException("CustomObjective returned null; it must build a SelfSupervisedObjective.");
    }

    private static string Describe(SelfSupervisedObjective objective) => objective.GetType().Name;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) objective.Dispose();
        base.Dispose(disposing);
    }
}
