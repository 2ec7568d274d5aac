using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Spatial;

namespace SpatialPrediction.ML.Training;

/// <summary>Everything the training engine needs, independent of ML.NET (the public options map onto this).</summary>
internal sealed record PretrainingSettings
{
    /// <summary>Host objective.</summary>
    public SslFramework Framework { get; init; } = SslFramework.SimClr;
    /// <summary>
    /// Builds the host objective when <see cref="Framework"/> is <see cref="SslFramework.Custom"/>, from the backbone's
    /// feature dimension. Not in the fingerprint as a delegate: the engine adds the built objective's identity.
    /// </summary>
    [NotInFingerprint]
    public Func<int, SelfSupervisedObjective>? CustomObjective { get; init; }
    /// <summary>Backbone architecture.</summary>
    public BackboneKind Backbone { get; init; } = BackboneKind.SmallResNet;
    /// <summary>Base channel width of the small ResNet.</summary>
    public int BackboneWidth { get; init; } = 32;
    /// <summary>How images become the backbone's input.</summary>
    public InputNormalization Normalization { get; init; } = InputNormalization.ImageNet;
    /// <summary>
    /// Weights to start from (for example the ImageNet ResNet-18); null: random initialisation. Its architecture must be
    /// the one <see cref="BackboneSpec"/> describes. Only read, never changed.
    /// </summary>
    [NotInFingerprint]
    public BackboneModule? InitialBackbone { get; init; }
    /// <summary>Where <see cref="InitialBackbone"/> came from; part of the fingerprint, so a checkpoint is not resumed onto other starting weights.</summary>
    public string InitialBackboneOrigin { get; init; } = "";
    /// <summary>Patch side of the ViTs.</summary>
    public int PatchSize { get; init; } = 8;
    /// <summary>Side of the host's (global) views and of the images as stored.</summary>
    public int ImageSize { get; init; } = 64;
    /// <summary>DINO's local crops per image.</summary>
    public int LocalCrops { get; init; } = 4;
    /// <summary>Side of DINO's local crops; 0 means half of <see cref="ImageSize"/>.</summary>
    public int LocalCropSize { get; init; }
    /// <summary>Whether SP is added to the host loss.</summary>
    public bool SpatialPredictionEnabled { get; init; } = true;
    /// <summary>λ, the SP loss weight. Default: the measured λ of the default host, SimCLR (see <c>HostRegistry</c>).</summary>
    public float SpatialPredictionWeight { get; init; } = Objectives.SimClrObjective.Registration.SpatialWeight;
    /// <summary>Fraction of all steps over which λ rises linearly from 0 to <see cref="SpatialPredictionWeight"/>; 0 starts at full λ.</summary>
    public double SpatialPredictionWarmupFraction { get; init; }
    /// <summary>SP plug-in settings.</summary>
    public SpatialPredictionSettings SpatialPrediction { get; init; } = new();
    /// <summary>Passes over the training images.</summary>
    public int Epochs { get; init; } = 10;
    /// <summary>Images per forward pass (a micro-batch when accumulating gradients).</summary>
    public int BatchSize { get; init; } = 64;
    /// <summary>Micro-batches whose gradients are summed before each optimiser step.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;
    /// <summary>Peak AdamW learning rate.</summary>
    public double LearningRate { get; init; } = 2e-3;
    /// <summary>AdamW weight decay at the start.</summary>
    public double WeightDecay { get; init; } = 1e-4;
    /// <summary>Weight decay at the end (cosine from <see cref="WeightDecay"/>); null keeps it constant.</summary>
    public double? FinalWeightDecay { get; init; }
    /// <summary>Fraction of all steps spent warming up the learning rate.</summary>
    public double WarmupFraction { get; init; } = 0.1;
    /// <summary>Teacher momentum at the start (rises to 1 by a cosine); null takes the host's default.</summary>
    public double? TeacherMomentum { get; init; }
    /// <summary>Leading backbone stages (stem first) whose weights and batch-norm statistics stay as they started.</summary>
    public int FrozenStages { get; init; }
    /// <summary>L2-SP strength α: the trainable backbone weights are pulled toward <see cref="InitialBackbone"/>'s by α·(w − w₀); 0: off.</summary>
    [OmittedFromFingerprintAtDefault]
    public double StartingPointPenalty { get; init; }
    /// <summary>Whether every batch norm of the backbone keeps its running statistics (eval mode) while training.</summary>
    public bool FreezeBatchNormStatistics { get; init; }
    /// <summary>Whether batch-norm statistics are re-estimated on the clean training images at <see cref="EffectiveFeaturizationImageSize"/> after training.</summary>
    [NotInFingerprint]
    public bool RecalibrateBatchNorm { get; init; }
    /// <summary>Side the returned featuriser resizes images to; 0 means <see cref="ImageSize"/>.</summary>
    [NotInFingerprint]
    public int FeaturizationImageSize { get; init; }
    /// <summary>Global gradient-norm clip; 0 disables it.</summary>
    public double GradientClipNorm { get; init; } = 3.0;
    /// <summary>
    /// Whether <see cref="GradientClipNorm"/> applies to each part (backbone, host heads, SP head) on its own instead of
    /// to all parameters at once, so a large gradient in one head does not scale down the others' updates.
    /// </summary>
    public bool ClipGradientPerPart { get; init; }
    /// <summary>The number format the backbone computes in (float32, or bfloat16 on float32 master weights).</summary>
    public ComputePrecision TrainingPrecision { get; init; } = ComputePrecision.Float32;
    /// <summary>Fraction of images held out to measure the SP validation loss.</summary>
    public double ValidationFraction { get; init; } = 0.1;
    /// <summary>Seed of every random choice (initialisation, order, views, augmentation).</summary>
    public int Seed { get; init; } = 1;
    /// <summary>Folder for checkpoints; a run finds its own checkpoint there and resumes from it. Null: no checkpoints.</summary>
    [NotInFingerprint]
    public string? CheckpointDirectory { get; init; }
    /// <summary>Write a checkpoint every this many optimiser steps (and always on cancellation and at the end).</summary>
    [NotInFingerprint]
    public int CheckpointEverySteps { get; init; } = 100;
    /// <summary>
    /// Batches prepared ahead on a loader thread; 0 prepares them on the training thread; null chooses: 2 on CUDA or
    /// with 4+ cores, else measured: the first batches are made on the training thread and timed, and one batch is made
    /// ahead from then on when views take at least 8 % of a step (on few cores a loader thread competes with libtorch's
    /// own threads, so it pays only when the views are a visible share of the step).
    /// </summary>
    [NotInFingerprint]
    public int? PrefetchBatches { get; init; }
    /// <summary>
    /// Keeps freed native memory in the process while training, for the next step to reuse (glibc on Linux; see
    /// <see cref="SpatialPrediction.ML.Machine.NativeHeapReuse"/>): libtorch's large activations are otherwise unmapped and faulted in again
    /// every step. glibc's defaults come back, and the free memory is returned, when training ends.
    /// </summary>
    [NotInFingerprint]
    public bool ReuseNativeMemory { get; init; } = true;
    /// <summary>The ResNets' convolution layout on the CPU; Auto measures it once per machine and shape (<see cref="SpatialPrediction.ML.Machine.LayoutCalibration"/>).</summary>
    [NotInFingerprint]
    public Backbones.ConvolutionLayout ConvolutionLayout { get; init; } = Backbones.ConvolutionLayout.Auto;
    /// <summary>Progress sink, called after every optimiser step.</summary>
    [NotInFingerprint]
    public IProgress<PretrainingProgress>? Progress { get; init; }
    /// <summary>Stops training between steps (after writing a checkpoint when a folder is set).</summary>
    [NotInFingerprint]
    public CancellationToken CancellationToken { get; init; }
    /// <summary>A second cancellation source polled between steps (ML.NET's <c>MLContext.CancelExecution</c>).</summary>
    [NotInFingerprint]
    public Func<bool>? IsCanceled { get; init; }
    /// <summary>Receives one-line status messages (start, checkpoints, end).</summary>
    [NotInFingerprint]
    public Action<string>? Log { get; init; }

    /// <summary>Whether SP contributes to the loss.</summary>
    public bool UsesSpatialPrediction => SpatialPredictionEnabled && SpatialPredictionWeight > 0;

    /// <summary>DINO's local crop side.</summary>
    public int EffectiveLocalCropSize => LocalCropSize > 0 ? LocalCropSize : ImageSize / 2;

    /// <summary>The additions of checkpoint format 2 to <see cref="LegacyFingerprint"/>, written only when not at their defaults.</summary>
    private IEnumerable<string> LaterSettings()
    {
        if (SpatialPredictionWarmupFraction != 0) yield return $"spWarmup {SpatialPredictionWarmupFraction}";
        if (SpatialPrediction.BackboneGradientScale != 1f) yield return $"spGradientScale {SpatialPrediction.BackboneGradientScale}";
        if (FrozenStages != 0) yield return $"frozenStages {FrozenStages}";
        if (FreezeBatchNormStatistics) yield return "frozenBatchNormStatistics";
        if (ClipGradientPerPart) yield return "clipPerPart";
        if (TrainingPrecision != ComputePrecision.Float32) yield return $"precision {TrainingPrecision}";
        if (SpatialPrediction.DetailResolution != 0) yield return $"spDetail {SpatialPrediction.DetailResolution}";
        if (SpatialPrediction.ProjectorWidth != 0) yield return $"spProjector {SpatialPrediction.ProjectorWidth}";
        if (!SpatialPrediction.UpdatesBatchNormStatistics) yield return "spKeepsBatchNormStatistics";
        if (SpatialPrediction.PredictsBothDirections) yield return "spBothDirections";
        if (SpatialPrediction.OnHostViews) yield return "spOnHostViews";
    }

    /// <summary>
    /// Every rule on these settings, in one place: the options check them when an estimator is created (so a mistake
    /// fails before a long data read) and the engine when it starts; the objective checks its own (its registration).
    /// </summary>
    /// <exception cref="ArgumentException">A setting is out of range; the parameter name is the setting's.</exception>
    internal void Validate()
    {
        static void Require(bool valid, string name, object? value, string rule)
        {
            if (!valid) throw new ArgumentOutOfRangeException(name, value, rule);
        }
        Require(Epochs >= 0, nameof(Epochs), Epochs, "Epochs must not be negative.");
        Require(BatchSize >= 2, nameof(BatchSize), BatchSize, "BatchSize must be at least 2 (contrastive and batch-norm statistics need pairs).");
        Require(ImageSize is >= 16 and <= 1024, nameof(ImageSize), ImageSize, "ImageSize must be between 16 and 1024 pixels.");
        Require(LearningRate > 0, nameof(LearningRate), LearningRate, "LearningRate must be positive.");
        Require(WeightDecay >= 0, nameof(WeightDecay), WeightDecay, "WeightDecay must not be negative.");
        Require(FinalWeightDecay is not double final || final >= 0, nameof(FinalWeightDecay), FinalWeightDecay, "FinalWeightDecay must not be negative.");
        Require(WarmupFraction is >= 0 and < 1, nameof(WarmupFraction), WarmupFraction, "WarmupFraction must be in [0, 1).");
        Require(GradientClipNorm >= 0, nameof(GradientClipNorm), GradientClipNorm, "GradientClipNorm must not be negative.");
        Require(ValidationFraction is >= 0 and < 1, nameof(ValidationFraction), ValidationFraction, "ValidationFraction must be in [0, 1).");
        Require(PatchSize >= 2, nameof(PatchSize), PatchSize, "PatchSize must be at least 2.");
        Require(Enum.IsDefined(TrainingPrecision), nameof(TrainingPrecision), TrainingPrecision, "ComputePrecision must be Float32 or BFloat16.");
        Require(BackboneWidth >= 4, nameof(BackboneWidth), BackboneWidth, "BackboneWidth must be at least 4.");
        Require(LocalCropSize >= 0, nameof(LocalCropSize), LocalCropSize, "LocalCropSize must not be negative (0 means ImageSize / 2).");
        Require(GradientAccumulationSteps >= 1, nameof(GradientAccumulationSteps), GradientAccumulationSteps, "GradientAccumulationSteps must be at least 1.");
        Require(TeacherMomentum is not double m || m is >= 0 and < 1, nameof(TeacherMomentum), TeacherMomentum, "TeacherMomentum must be in [0, 1).");
        Require(CheckpointEverySteps >= 1, nameof(CheckpointEverySteps), CheckpointEverySteps, "CheckpointEverySteps must be at least 1.");
        Require(PrefetchBatches is not < 0, nameof(PrefetchBatches), PrefetchBatches, "PrefetchBatches must not be negative.");
        Require(FeaturizationImageSize == 0 || FeaturizationImageSize is >= 16 and <= 1024, nameof(FeaturizationImageSize), FeaturizationImageSize,
            "FeaturizationImageSize must be 0 (ImageSize) or between 16 and 1024 pixels.");
        Require(FrozenStages >= 0, nameof(FrozenStages), FrozenStages, "FrozenStages must not be negative.");
        Require(StartingPointPenalty >= 0 && double.IsFinite(StartingPointPenalty), nameof(StartingPointPenalty), StartingPointPenalty,
            "StartingPointPenalty must be 0 (off) or a positive finite number.");
        if (StartingPointPenalty > 0 && InitialBackbone is null)
            throw new ArgumentException($"StartingPointPenalty = {StartingPointPenalty} pulls the weights toward the ones training starts from, " +
                                        "but there are none: set InitialBackbone (for example SpatialBackbone.LoadImageNetResNet18) or leave StartingPointPenalty at 0.",
                nameof(StartingPointPenalty));
        if (UsesSpatialPrediction && SpatialPrediction.OnHostViews && Framework == SslFramework.None)
            throw new ArgumentException("SpatialPrediction.OnHostViews needs a host objective: SP then trains on the host's two views, and Framework is None.",
                nameof(SpatialPrediction));
        if (Epochs > 0 && Framework == SslFramework.None && !UsesSpatialPrediction)
            throw new ArgumentException("Nothing to train: Framework is None and Spatial Prediction is off. Enable one of them.", nameof(Framework));
        if (CustomObjective is not null && Framework != SslFramework.Custom)
            throw new ArgumentException($"CustomObjective is set but Framework is {Framework}; set Framework = SslFramework.Custom to train your objective.",
                nameof(CustomObjective));
        Objectives.HostRegistry.For(Framework)?.Validate?.Invoke(this);
    }

    /// <summary>Side the returned featuriser resizes images to.</summary>
    public int EffectiveFeaturizationImageSize => FeaturizationImageSize > 0 ? FeaturizationImageSize : ImageSize;

    /// <summary>λ at optimiser step <paramref name="step"/> of <paramref name="totalSteps"/>, after its warm-up.</summary>
    public float SpatialPredictionWeightAt(int step, int totalSteps)
    {
        double warmup = SpatialPredictionWarmupFraction * totalSteps;
        return warmup <= 0 ? SpatialPredictionWeight : SpatialPredictionWeight * (float)Math.Min(1.0, step / warmup);
    }

    /// <summary>The backbone these settings build.</summary>
    public BackboneSpec BackboneSpec => new(Backbone, BackboneWidth, PatchSize, ImageSize, Normalization);

    /// <summary>
    /// Everything that determines the weights a run produces, as text: a checkpoint written under one fingerprint is
    /// only resumed under the same one. Derived from the settings' own properties (those marked
    /// <see cref="NotInFingerprintAttribute"/> aside), so a new setting cannot be left out by mistake.
    /// </summary>
    public string Fingerprint() => SettingsFingerprint.Of(this);

    /// <summary>
    /// The hand-written fingerprint of checkpoints written before <see cref="Fingerprint"/> was derived from the
    /// settings; only compared with such checkpoints, so they still resume. Frozen: new settings are not added here.
    /// </summary>
    internal string LegacyFingerprint()
    {
        // Records and doubles print with the current culture; the fingerprint must not change with it.
        var culture = System.Globalization.CultureInfo.CurrentCulture;
        System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
        try
        {
            return string.Join(";", new object?[]
        {
            Framework, BackboneSpec, LocalCrops, EffectiveLocalCropSize, SpatialPredictionEnabled, SpatialPredictionWeight,
            SpatialPrediction.Sampler, SpatialPrediction.LocalResolution, SpatialPrediction.Parameterization,
            SpatialPrediction.Augmentation, SpatialPrediction.HeadWidth, SpatialPrediction.HeadDepth, SpatialPrediction.PairsPerImage,
            Epochs, BatchSize, GradientAccumulationSteps, LearningRate, WeightDecay, FinalWeightDecay, WarmupFraction,
                TeacherMomentum, GradientClipNorm, ValidationFraction, Seed,
                InitialBackbone is null ? null : "initial: " + InitialBackboneOrigin,
            }.Select(v => v?.ToString() ?? "null").Concat(LaterSettings()));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = culture;
        }
    }
}
