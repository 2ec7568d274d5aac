using SpatialPrediction.ML.Training;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Views;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Objectives;

/// <summary>
/// DINO (Caron et al., 2021) scaled for small images: student and EMA teacher (backbone + <see cref="DinoHead"/>),
/// multi-crop with 2 global crops at the image size and <c>localCrops</c> local crops at half of it (paper: 2 × 224 px
/// + 10 × 96 px), head 512 hidden / 128 bottleneck / 1024 prototypes (paper: 2048 / 256 / 65536, sized for
/// ImageNet's diversity), τ_s = 0.1, τ_t = 0.04, centre momentum 0.9, teacher momentum 0.99 → 1 (paper 0.996, for
/// long runs).
/// </summary>
internal sealed class DinoObjective : HostObjective
{
    /// <summary>
    /// DINO in the engine: its local crops are a second view size, and λ = 0.25 was chosen for it on the emoji
    /// validation split (its own loss gives small gradients, so a λ as large as SimCLR's lets SP dominate the backbone).
    /// </summary>
    internal static HostRegistration Registration { get; } = new(SslFramework.Dino,
        (settings, backbone, createBackbone) => new DinoObjective(backbone, createBackbone, settings.ImageSize, settings.LocalCrops, settings.EffectiveLocalCropSize),
        Validate: settings =>
        {
            if (settings.LocalCrops < 0) throw new ArgumentOutOfRangeException(nameof(settings.LocalCrops), settings.LocalCrops, "LocalCrops must not be negative.");
        },
        ViewSizes: settings => new[] { (settings.EffectiveLocalCropSize, "LocalCropSize") },
        SpatialWeight: 0.25f);

    private readonly DinoHead head, teacherHead;
    private readonly BackboneModule teacherBackbone;
    private readonly Parameter center;

    /// <summary>Creates the objective; the teacher starts as a copy of the student.</summary>
    public DinoObjective(BackboneModule backbone, Func<BackboneModule> createBackbone, int viewSize, int localCrops, int localViewSize,
        int hiddenDimension = 512, int bottleneckDimension = 128, int prototypeCount = 1024) : base(nameof(DinoObjective))
    {
        long d = backbone.FeatureDimension;
        DinoHead Head() => new(d, hiddenDimension, bottleneckDimension, prototypeCount);
        head = Head();
        teacherBackbone = MomentumTeacher.Copy(backbone, createBackbone);
        teacherHead = MomentumTeacher.Copy(head, Head);
        // A parameter without gradient rather than a buffer: it then moves with the module and is saved with it.
        center = new Parameter(zeros(1, prototypeCount), requires_grad: false);
        Views = HostViews.MultiCrop(viewSize, localCrops, localViewSize);
        RegisterComponents();
    }

    /// <summary>How the global and local views are made.</summary>
    public MultiCropSampler Views { get; }
    /// <summary>The distillation loss.</summary>
    public DinoLoss DistillationLoss { get; } = new();
    /// <summary>The running centre of teacher outputs [1, K].</summary>
    public Tensor Center => center;

    /// <inheritdoc />
    public override double? DefaultTeacherMomentum => 0.99;

    /// <inheritdoc />
    public override ViewSet MakeViews(PictureBatch pictures, Random random, Device device) => Views.Make(pictures, random, device);

    /// <inheritdoc />
    public override CropFamily FirstPairCrops => Views.Families[0]; // the two global crops

    /// <inheritdoc />
    public override IEnumerable<BackbonePass> BackbonePasses(int batch)
        => Views.Passes(batch).Append(Views.Passes(batch).First() with { Backward = false }); // the teacher sees the globals

    /// <inheritdoc />
    public override Tensor Loss(BackboneModule backbone, ViewSet views)
    {
        long batch = views.Views[0].shape[0];
        var globals = cat(new[] { views.Views[0], views.Views[1] }, 0);
        var globalFeatures = backbone.forward(globals);
        ShareFirstPair(globalFeatures, views);
        var student = new List<Tensor>(head.forward(globalFeatures).chunk(2, 0));
        if (views.Views.Count > 2)
        {
            var locals = cat(views.Views.Skip(2).ToArray(), 0);
            student.AddRange(head.forward(backbone.forward(locals)).split(batch, 0));
        }
        Tensor[] teacher;
        using (no_grad()) teacher = teacherHead.forward(teacherBackbone.forward(globals)).chunk(2, 0);
        var loss = DistillationLoss.Compute(student, teacher, center);
        DistillationLoss.UpdateCenter(center, teacher);
        return loss;
    }

    /// <inheritdoc />
    public override void UpdateTeacher(BackboneModule backbone, double momentum)
    {
        MomentumTeacher.Update(teacherBackbone, backbone, momentum);
        MomentumTeacher.Update(teacherHead, head, momentum);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            head.Dispose(); teacherHead.Dispose(); teacherBackbone.Dispose(); center.Dispose();
        }
        base.Dispose(disposing);
    }
}
