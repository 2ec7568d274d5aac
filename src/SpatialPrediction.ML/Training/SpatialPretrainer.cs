using SpatialPrediction.ML.Machine;
using System.Diagnostics;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Objectives;
using SpatialPrediction.ML.Spatial;
using SpatialPrediction.ML.Views;
using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Training;

/// <summary>The trained parts of a run.</summary>
/// <param name="Backbone">The backbone, in eval mode, on the training device.</param>
/// <param name="History">Losses and timings.</param>
/// <param name="Fingerprint">What identifies the run's settings (checkpoints are resumed only under the same one).</param>
internal sealed record PretrainingResult(BackboneModule Backbone, PretrainingHistory History, string Fingerprint);

/// <summary>Raised when the loss or the weights stop being finite; the last good checkpoint is left untouched.</summary>
public sealed class TrainingDivergedException(string message) : InvalidOperationException(message);

/// <summary>
/// The training engine: composes a backbone with its training terms (a host objective and the SP plug-in, each a
/// <see cref="TrainingTerm"/> with its own weight schedule), and optimises the weighted sum of their losses with
/// AdamW (warm-up + cosine learning rate, cosine weight decay, gradient clipping and accumulation), moving teachers
/// by EMA after each step. Batches come from a <see cref="BatchLoader"/> thread. Checkpoints are written every N
/// steps, on cancellation and at the end; a run whose checkpoint folder holds its own checkpoint resumes from it and
/// ends with the same weights as an uninterrupted run. Every tensor made in a step lives in that step's dispose
/// scope, so memory stays flat however long the run.
/// </summary>
internal static class SpatialPretrainer
{
    /// <summary>
    /// Trains on <paramref name="images"/> ([N, 3, H, W] source pictures that views are cut from; bytes in [0, 255] or
    /// floats in [0, 1]; kept on the CPU, views are moved to the device as they are made)
    /// on <paramref name="device"/>. The input tensor is not modified or disposed. <paramref name="skippedRows"/> (the
    /// input rows left out before this call, "row N: reason") is recorded in the history.
    /// </summary>
    public static PretrainingResult Train(Tensor images, PretrainingSettings settings, Device device, IReadOnlyList<string>? skippedRows = null)
    {
        if (images.dim() != 4 || images.shape[1] != 3)
            throw new ArgumentException($"Expected images of shape [N, 3, H, W]; got [{string.Join(", ", images.shape)}].", nameof(images));
        using var store = new TensorTrainingImages(images);
        return Train(store, settings, device, skippedRows);
    }

    /// <summary>Trains on <paramref name="images"/> (in memory or in a file; not disposed here).</summary>
    internal static PretrainingResult Train(TrainingImages images, PretrainingSettings settings, Device device, IReadOnlyList<string>? skippedRows = null)
    {
        Validate(images, settings);
        BackboneModule? backbone = null;
        try
        {
            return Run(images, settings, device, skippedRows ?? Array.Empty<string>(), out backbone);
        }
        catch
        {
            // The caller never sees the backbone of a failed run, so its native memory is released here.
            backbone?.Dispose();
            throw;
        }
    }

    /// <summary>Starts from given weights: same architecture (checked name by name and shape by shape), values copied.</summary>
    private static void CopyWeights(BackboneModule from, BackboneModule to)
    {
        var source = from.state_dict();
        var target = to.state_dict();
        var wrong = target.Where(t => !source.TryGetValue(t.Key, out var s) || !s.shape.SequenceEqual(t.Value.shape)).Select(t => t.Key).ToList();
        if (wrong.Count > 0 || source.Count != target.Count)
            throw new ArgumentException($"The initial backbone ({from.Kind}) does not match the configured architecture ({to.Kind}): " +
                                        $"{string.Join(", ", wrong.Take(5))}{(wrong.Count > 5 ? ", ..." : "")}.", nameof(from));
        using (torch.no_grad())
        {
            foreach (var (name, value) in target) value.copy_(source[name]);
        }
    }

    private static PretrainingResult Run(TrainingImages images, PretrainingSettings settings, Device device, IReadOnlyList<string> skippedRows, out BackboneModule backbone)
    {
        var spec = settings.BackboneSpec;
        // Everything about how this machine runs the step, before the first tensor: oneDNN's mode, the heap, the precision.
        using var execution = TrainingExecution.Begin(device, settings.TrainingPrecision, settings.ReuseNativeMemory, settings.Log);
        torch.manual_seed(settings.Seed);
        backbone = BackboneFactory.Create(spec);
        if (settings.InitialBackbone is { } initial) CopyWeights(initial, backbone);
        CheckViewSizes(backbone, settings);
        var freezing = new StageFreezing(backbone, settings.FrozenStages, settings.FreezeBatchNormStatistics);
        var (createdHost, createdPlugin) = CreateTerms(settings, backbone);
        using var host = createdHost;
        using var plugin = createdPlugin;
        backbone.to(device);
        host?.to(device);
        plugin?.to(device);
        // The terms in the order they make their views (from one random stream) and go backward; each with its weight at a step.
        var terms = new List<(TrainingTerm Term, Func<int, int, float> WeightAt)>();
        if (host is not null) terms.Add((host, (_, _) => 1f));
        if (plugin is not null) terms.Add((plugin, settings.SpatialPredictionWeightAt));
        if (terms.Count == 0) throw new InvalidOperationException("Nothing to train: no host objective and SP is off.");
        var termModules = terms.Select(t => t.Term).ToList();
        // The history names the two roles a run has today; a term that is not trained reads 0 (loss) and NaN (gradient).
        int hostIndex = host is null ? -1 : 0, spatialIndex = plugin is null ? -1 : terms.Count - 1;
        var modules = new List<nn.Module> { backbone };
        modules.AddRange(termModules);

        var (trainIndices, validationIndices) = Split(images.Count, settings);
        var history = new PretrainingHistory
        {
            TrainingImages = trainIndices.Length,
            ValidationImages = validationIndices.Length,
            Device = device.ToString(),
            SkippedRows = skippedRows,
            OneDnnMode = execution.OneDnn,
        };

        // The parts a per-part clip treats on its own; together, everything the optimiser updates.
        var backboneParameters = freezing.TrainableParameters().ToList();
        using var anchor = settings.StartingPointPenalty > 0 ? new StartingPointAnchor(backboneParameters, settings.StartingPointPenalty) : null;
        var parts = new List<IReadOnlyList<TorchSharp.Modules.Parameter>> { backboneParameters };
        parts.AddRange(termModules.Select(t => t.TrainableParameters().ToList()));
        var parameters = parts.SelectMany(p => p).ToList();

        int batchSize = Math.Min(settings.BatchSize, trainIndices.Length);
        var passes = termModules.SelectMany(t => t.BackbonePasses(batchSize)).DefaultIfEmpty(new BackbonePass(batchSize, settings.ImageSize, true)).ToList();
        var firstPictures = trainIndices.AsSpan(0, batchSize).ToArray();
        var plan = execution.ChooseConvolutionPlan(settings.ConvolutionLayout, spec, passes, device,
            bfloat16: settings.TrainingPrecision == ComputePrecision.BFloat16, step: () =>
            {
                var step = new LayoutCalibrationStep(settings, images, firstPictures, device);
                return (step.Run, step);
            });
        ApplyPlan(backbone, termModules, plan);
        int accumulation = settings.GradientAccumulationSteps;
        int microPerEpoch = trainIndices.Length / batchSize;
        int totalSteps = microPerEpoch * settings.Epochs / accumulation;
        var learningRate = new CosineSchedule(settings.LearningRate, totalSteps, (int)Math.Round(settings.WarmupFraction * totalSteps));
        var weightDecay = new CosineSchedule(settings.WeightDecay, totalSteps, 0,
            settings.WeightDecay > 0 ? (settings.FinalWeightDecay ?? settings.WeightDecay) / settings.WeightDecay : 1);
        double? teacherMomentum = settings.TeacherMomentum ?? host?.DefaultTeacherMomentum;
        string fingerprint = settings.Fingerprint() + (host?.Identity is { } identity ? $" host={identity}" : "");
        string? lastCheckpoint = null;

        using var optimizer = optim.AdamW(parameters, lr: settings.LearningRate, weight_decay: settings.WeightDecay);
        int startStep = 0;
        if (settings.CheckpointDirectory is { } directory && Checkpoint.Load(directory, fingerprint, modules, optimizer, settings.Log, settings.LegacyFingerprint()) is { } resumed)
        {
            startStep = resumed.State.CompletedSteps;
            history.AddSteps(resumed.State.Steps);
            history.SpatialValidationLossBefore = resumed.State.SpatialValidationLossBefore;
            lastCheckpoint = resumed.Path;
            settings.Log?.Invoke($"Resuming from {resumed.Path} at step {startStep} of {totalSteps}.");
        }
        else if (plugin is not null && validationIndices.Length > 0)
        {
            history.SpatialValidationLossBefore = SpatialValidationLoss(backbone, plugin, images, validationIndices, settings.Seed, device);
        }

        settings.Log?.Invoke($"Pretraining {settings.Framework}{(plugin is null ? "" : $" + SP (λ = {settings.SpatialPredictionWeight})")} " +
                             $"on {spec.Kind} ({backbone.FeatureDimension} features), {trainIndices.Length} images, {totalSteps} steps " +
                             $"of {batchSize}×{accumulation} images on {device}" +
                             (settings.TrainingPrecision == ComputePrecision.BFloat16 ? ", the backbone in bfloat16 on float32 master weights." : "."));
        var clock = Stopwatch.StartNew();
        string SaveCheckpoint(int completedSteps)
        {
            EnsureFiniteWeights(parameters, completedSteps, lastCheckpoint);
            var state = new Checkpoint.State(fingerprint, completedSteps, history.SpatialValidationLossBefore, history.Steps);
            lastCheckpoint = Checkpoint.Save(settings.CheckpointDirectory!, state, modules, optimizer);
            settings.Log?.Invoke($"Checkpoint at step {completedSteps}: {lastCheckpoint}");
            return lastCheckpoint;
        }

        freezing.Train();
        foreach (var term in termModules) term.train();
        // The terms compute on this; with bfloat16 it is a working copy whose gradients go to the float32 master (see BFloat16Backbone).
        using var bfloat16 = settings.TrainingPrecision == ComputePrecision.BFloat16 ? new BFloat16Backbone(backbone, () => BackboneFactory.Create(spec)) : null;
        BackboneModule computing = bfloat16 ?? (BackboneModule)backbone;
        var gradients = new GradientNorms(backboneParameters, terms.Count);
        using (var loader = new BatchLoader(images, trainIndices, batchSize, settings.Seed, termModules, device,
                   (long)startStep * accumulation, (long)totalSteps * accumulation, PrefetchFor(settings, device), settings.Log))
        {
            for (int step = startStep; step < totalSteps; step++)
            {
                // Everything the step makes outside the micro-batches (zero_grad's and the optimiser's grad() wrappers,
                // gradient norms, AdamW temporaries) is released with the step, not left to the finalizer.
                using var stepScope = NewDisposeScope();
                if (settings.CancellationToken.IsCancellationRequested || settings.IsCanceled?.Invoke() == true)
                {
                    if (settings.CheckpointDirectory is not null && step > startStep) SaveCheckpoint(step);
                    throw new OperationCanceledException(
                        $"Pretraining was cancelled after {step} of {totalSteps} steps" +
                        (lastCheckpoint is null ? "." : $"; the checkpoint {lastCheckpoint} resumes it."));
                }
                double lr = learningRate.At(step);
                foreach (var group in optimizer.ParamGroups)
                {
                    group.LearningRate = lr;
                    ((TorchSharp.Modules.AdamW.Options)((TorchSharp.Modules.AdamW.ParamGroup)group).Options).weight_decay = weightDecay.At(step);
                }

                // Gradients dropped rather than zeroed (PyTorch's set_to_none): the first backward then adopts its
                // gradient tensors instead of adding them to zeros, and a parameter without one is left alone by AdamW.
                foreach (var parameter in parameters) parameter.grad = null;
                bfloat16?.Pull();
                gradients.StartStep();
                var weights = terms.Select(t => t.WeightAt(step, totalSteps)).ToArray();
                var sums = new float[terms.Count];
                float totalSum = 0;
                int epoch = 0;
                for (int micro = 0; micro < accumulation; micro++)
                {
                    using var batch = loader.Next();
                    using var scope = NewDisposeScope();
                    epoch = batch.Epoch;
                    var losses = terms.Select((t, i) => t.Term.Loss(computing, batch.Views[i])).ToList();
                    var values = losses.Select(l => l.item<float>()).ToArray();
                    float totalValue = 0;
                    for (int i = 0; i < values.Length; i++) totalValue += i == hostIndex ? values[i] : weights[i] * values[i];
                    if (!float.IsFinite(totalValue))
                        throw new TrainingDivergedException(
                            $"Training diverged at step {step + 1} of {totalSteps} (epoch {epoch + 1}): total loss {totalValue} " +
                            $"({string.Join(", ", terms.Select((t, i) => $"{t.Term.TermName} {values[i]}"))}); no weights were updated with it. " +
                            (lastCheckpoint is null ? "No checkpoint was written. " : $"Last good checkpoint: {lastCheckpoint}. ") +
                            "Lower LearningRate, raise GradientClipNorm's protection (a smaller value), or check the images for NaN/Inf.");
                    // The terms go backward one after the other (their graphs share only the parameters), so each one's
                    // gradient at the backbone can be told apart; the sum is the same as one backward of the total.
                    for (int i = 0; i < losses.Count; i++)
                    {
                        gradients.BeforeTerm(i);
                        (i == hostIndex ? losses[i] / accumulation : losses[i] * (weights[i] / accumulation))
                            .backward(retain_graph: terms[i].Term.GraphReadByLaterTerms);
                        bfloat16?.PushGradients();
                        gradients.AfterTerm(i);
                        sums[i] += values[i];
                    }
                    totalSum += totalValue;
                    host?.ClearFirstPair();
                    bfloat16?.PushStatistics();
                }
                var termNorms = gradients.EndStep();
                anchor?.AddGradient();
                var (totalNorm, clipped) = Clip(settings, parameters, parts);
                optimizer.step();
                if (teacherMomentum is double m) host!.UpdateTeacher(backbone, MomentumTeacher.Schedule(m, step, totalSteps));

                float Of(float[] values, int index, float missing) => index < 0 ? missing : values[index];
                var record = new StepRecord(step, epoch, Of(sums, hostIndex, 0f) / accumulation, Of(sums, spatialIndex, 0f) / accumulation,
                    totalSum / accumulation, lr, Of(weights, spatialIndex, 0f), Of(termNorms, hostIndex, float.NaN), Of(termNorms, spatialIndex, float.NaN),
                    totalNorm, clipped);
                history.AddSteps(new[] { record });
                Report(settings, record, totalSteps, startStep, batchSize * accumulation, clock.Elapsed);
                bool last = step + 1 == totalSteps;
                if (settings.CheckpointDirectory is not null && (last || (step + 1) % settings.CheckpointEverySteps == 0))
                    SaveCheckpoint(step + 1);
            }
        }
        history.Elapsed = clock.Elapsed;

        if (settings.RecalibrateBatchNorm)
        {
            BatchNormRecalibration.Run(backbone, images, trainIndices, settings.EffectiveFeaturizationImageSize, batchSize, device);
            settings.Log?.Invoke($"Batch-norm statistics re-estimated on {trainIndices.Length} clean training images at {settings.EffectiveFeaturizationImageSize} px.");
        }
        backbone.eval();
        if (plugin is not null && validationIndices.Length > 0)
            history.SpatialValidationLossAfter = SpatialValidationLoss(backbone, plugin, images, validationIndices, settings.Seed, device);
        settings.Log?.Invoke($"Pretraining finished: {history.Steps.Count} steps, {history.Elapsed.TotalSeconds:F0} s, " +
                             $"SP validation loss {history.SpatialValidationLossBefore:F3} → {history.SpatialValidationLossAfter:F3}; " +
                             $"{history.ClippedStepShare:P0} of steps clipped" +
                             (anchor is null ? "" : $", ‖w − w₀‖ of the trained weights {anchor.Distance():G3}") +
                             (double.IsFinite(history.MedianSpatialToHostGradientRatio) ? $", median ‖∇λ·SP‖ / ‖∇host‖ at the backbone {history.MedianSpatialToHostGradientRatio:F2}." : "."));
        return new PretrainingResult(backbone, history, fingerprint);
    }

    /// <summary>
    /// Clips the gradient (all at once, or each part on its own). Returns the whole gradient's norm before clipping —
    /// the clip computes it anyway, so it is not computed twice — and whether anything was scaled down.
    /// </summary>
    internal static (float Norm, bool Clipped) Clip(PretrainingSettings settings, IReadOnlyList<TorchSharp.Modules.Parameter> all,
        IReadOnlyList<IReadOnlyList<TorchSharp.Modules.Parameter>> parts)
    {
        double limit = settings.GradientClipNorm;
        if (limit <= 0) return (GradientNorms.Norm(all), false);
        if (!settings.ClipGradientPerPart)
        {
            double norm = nn.utils.clip_grad_norm_(all, limit);
            return ((float)norm, norm > limit);
        }
        double squares = 0;
        bool clipped = false;
        foreach (var part in parts.Where(p => p.Count > 0))
        {
            double norm = nn.utils.clip_grad_norm_(part, limit);
            squares += norm * norm;
            clipped |= norm > limit;
        }
        return ((float)Math.Sqrt(squares), clipped);
    }

    internal static HostObjective? CreateHost(PretrainingSettings settings, BackboneModule backbone, Func<BackboneModule> createBackbone)
        => HostRegistry.For(settings.Framework)?.Create(settings, backbone, createBackbone);

    /// <summary>The run's training terms on <paramref name="backbone"/>: its host objective (if any) and the SP plug-in (if on).</summary>
    internal static (HostObjective? Host, SpatialPredictionPlugin? Plugin) CreateTerms(PretrainingSettings settings, BackboneModule backbone)
    {
        var host = CreateHost(settings, backbone, () => BackboneFactory.Create(settings.BackboneSpec));
        try
        {
            return (host, settings.UsesSpatialPrediction ? new SpatialPredictionPlugin(backbone.FeatureDimension, settings.SpatialPrediction, host) : null);
        }
        catch
        {
            host?.Dispose();
            throw;
        }
    }

    /// <summary>Sets <paramref name="plan"/> on the backbone and on every backbone inside the terms (teachers run as the student does).</summary>
    internal static void ApplyPlan(BackboneModule backbone, IEnumerable<TrainingTerm> terms, ConvolutionPlan plan)
    {
        foreach (var module in terms.SelectMany(t => t.modules()).OfType<BackboneModule>().Prepend(backbone)) module.Apply(plan);
    }

    /// <summary>
    /// Mean SP loss on held-out images with pairs drawn from a fixed stream and no photometric augmentation, so the value
    /// before and after training compares the same pairs.
    /// </summary>
    internal static float SpatialValidationLoss(BackboneModule backbone, SpatialPredictionPlugin plugin, TrainingImages images,
        long[] indices, int seed, Device device)
    {
        bool backboneTraining = backbone.training, pluginTraining = plugin.training;
        backbone.eval();
        plugin.eval();
        try
        {
            double sum = 0;
            int count = 0;
            using var noGrad = no_grad();
            for (int start = 0, chunk = 0; start < indices.Length; start += 256, chunk++)
            {
                using var scope = NewDisposeScope();
                int length = Math.Min(256, indices.Length - start);
                using var pictures = images.Gather(indices.AsSpan(start, length));
                using var views = plugin.MakeViews(pictures, SeedStreams.For(seed, SeedStreams.Validation, chunk), device, PhotometricAugmentation.Identity);
                sum += plugin.Loss(backbone, views).item<float>() * length;
                count += length;
            }
            return (float)(sum / count);
        }
        finally
        {
            backbone.train(backboneTraining);
            plugin.train(pluginTraining);
        }
    }

    /// <summary>The setting, or 2 on CUDA or with 4+ cores, or null: measured on the run's first batches (fewer cores).</summary>
    private static int? PrefetchFor(PretrainingSettings settings, Device device)
        => settings.PrefetchBatches ?? (device.type == DeviceType.CUDA || Environment.ProcessorCount >= 4 ? 2 : null);

    private static void EnsureFiniteWeights(IEnumerable<TorchSharp.Modules.Parameter> parameters, int step, string? lastCheckpoint)
    {
        using var scope = NewDisposeScope();
        if (parameters.All(p => p.isfinite().all().item<bool>())) return;
        throw new TrainingDivergedException(
            $"Weights stopped being finite by step {step}; the checkpoint was not overwritten. " +
            (lastCheckpoint is null ? "" : $"Last good checkpoint: {lastCheckpoint}. ") + "Lower LearningRate or enable GradientClipNorm.");
    }

    private static (long[] Train, long[] Validation) Split(long count, PretrainingSettings settings)
    {
        var shuffled = Enumerable.Range(0, (int)count).Select(i => (long)i).ToArray();
        SeedStreams.For(settings.Seed, SeedStreams.Split, 0).Shuffle(shuffled);
        int validation = (int)Math.Floor(count * settings.ValidationFraction);
        return (shuffled[validation..], shuffled[..validation]);
    }

    private static void Report(PretrainingSettings settings, StepRecord record, int totalSteps, int startStep, int imagesPerStep, TimeSpan elapsed)
    {
        if (settings.Progress is null) return;
        int done = record.Step + 1, doneHere = done - startStep;
        double imagesPerSecond = doneHere * imagesPerStep / Math.Max(1e-9, elapsed.TotalSeconds);
        var remaining = TimeSpan.FromSeconds(elapsed.TotalSeconds / doneHere * (totalSteps - done));
        settings.Progress.Report(new PretrainingProgress(done, totalSteps, record.Epoch + 1, record.HostLoss, record.SpatialLoss,
            record.TotalLoss, record.LearningRate, imagesPerSecond, remaining));
    }

    private static void CheckViewSizes(BackboneModule backbone, PretrainingSettings settings)
    {
        void Check(int size, string option)
        {
            if (!backbone.Accepts(size))
                throw new ArgumentException(
                    $"{option} = {size} does not suit the {backbone.Kind} backbone, which takes sides from {backbone.MinInputSize} to " +
                    $"{backbone.MaxInputSize} px" + (backbone.InputSizeMultiple > 1 ? $" in multiples of {backbone.InputSizeMultiple}." : "."));
        }
        Check(settings.ImageSize, "ImageSize");
        Check(settings.EffectiveFeaturizationImageSize, "FeaturizationImageSize");
        if (settings.UsesSpatialPrediction) Check(settings.SpatialPrediction.LocalResolution, "SpatialPrediction.LocalResolution");
        foreach (var (size, option) in HostRegistry.For(settings.Framework)?.ViewSizes?.Invoke(settings) ?? Array.Empty<(int, string)>()) Check(size, option);
    }

    private static void Validate(TrainingImages images, PretrainingSettings settings)
    {
        settings.Validate();
        long trainCount = images.Count - (long)Math.Floor(images.Count * settings.ValidationFraction);
        if (settings.Epochs > 0 && trainCount < 2)
            throw new ArgumentException($"Only {trainCount} training image(s) after holding out the validation split; at least 2 are needed.", nameof(images));
    }
}
