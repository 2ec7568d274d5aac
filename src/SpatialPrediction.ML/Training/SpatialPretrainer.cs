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
public sealed record PretrainingResult(BackboneModule Backbone, PretrainingHistory History);

/// <summary>
/// The training engine: composes a backbone, a host objective and the SP plug-in, and optimises
/// host + λ·SP with AdamW under a warm-up + cosine schedule. Every tensor made in a step lives in that step's dispose
/// scope, so memory stays flat however long the run.
/// </summary>
public static class SpatialPretrainer
{
    /// <summary>
    /// Trains on <paramref name="images"/> ([N, 3, S, S], S = <see cref="PretrainingSettings.ImageSize"/>; bytes in
    /// [0, 255] or floats in [0, 1]; kept on the CPU, batches are moved to the device as they are used)
    /// on <paramref name="device"/>. The input tensor is not modified or disposed.
    /// </summary>
    public static PretrainingResult Train(Tensor images, PretrainingSettings settings, Device device)
    {
        Validate(images, settings);
        BackboneModule? backbone = null;
        try
        {
            return TrainBackbone(images, settings, device, out backbone);
        }
        catch
        {
            // The caller never sees the backbone of a failed run, so its native memory is released here.
            backbone?.Dispose();
            throw;
        }
    }

    private static PretrainingResult TrainBackbone(Tensor images, PretrainingSettings settings, Device device, out BackboneModule backbone)
    {
        torch.manual_seed(settings.Seed);
        var random = new Random(settings.Seed);

        backbone = BackboneFactory.Create(settings.Backbone, settings.BackboneWidth);
        using var host = CreateHost(settings, backbone.FeatureDimension);
        using var plugin = settings.UsesSpatialPrediction
            ? new SpatialPredictionPlugin(backbone.FeatureDimension, settings.SpatialPrediction)
            : null;
        backbone.to(device);
        host?.to(device);
        plugin?.to(device);

        var (trainIndices, validationIndices) = Split(images.shape[0], settings.ValidationFraction, random);
        var history = new PretrainingHistory
        {
            TrainingImages = trainIndices.Length,
            ValidationImages = validationIndices.Length,
            Device = device.ToString(),
        };
        if (plugin is not null && validationIndices.Length > 0)
            history.SpatialValidationLossBefore = SpatialValidationLoss(backbone, plugin, images, validationIndices, settings, device);

        var parameters = backbone.parameters().ToList();
        if (host is not null) parameters.AddRange(host.parameters());
        if (plugin is not null) parameters.AddRange(plugin.parameters());

        int batchSize = Math.Min(settings.BatchSize, trainIndices.Length);
        int stepsPerEpoch = trainIndices.Length / batchSize;
        int totalSteps = stepsPerEpoch * settings.Epochs;
        var schedule = new CosineSchedule(settings.LearningRate, totalSteps, (int)Math.Round(settings.WarmupFraction * totalSteps));
        var clock = Stopwatch.StartNew();

        if (totalSteps > 0)
        {
            using var optimizer = optim.AdamW(parameters, lr: settings.LearningRate, weight_decay: settings.WeightDecay);
            backbone.train();
            host?.train();
            plugin?.train();
            int step = 0;
            for (int epoch = 0; epoch < settings.Epochs; epoch++)
            {
                var order = trainIndices.OrderBy(_ => random.Next()).ToArray();
                for (int s = 0; s < stepsPerEpoch; s++, step++)
                {
                    settings.CancellationToken.ThrowIfCancellationRequested();
                    double lr = schedule.At(step);
                    foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;

                    using var scope = NewDisposeScope();
                    var batch = Gather(images, order.AsSpan(s * batchSize, batchSize), device);
                    var hostLoss = host?.Loss(backbone, batch, random);
                    var spatialLoss = plugin?.Loss(backbone, batch, random);
                    var total = (hostLoss, spatialLoss) switch
                    {
                        (not null, not null) => hostLoss + settings.SpatialPredictionWeight * spatialLoss,
                        (not null, null) => hostLoss,
                        (null, not null) => settings.SpatialPredictionWeight * spatialLoss,
                        _ => throw new InvalidOperationException("Nothing to train: no host objective and SP is off."),
                    };

                    optimizer.zero_grad();
                    total.backward();
                    if (settings.GradientClipNorm > 0) nn.utils.clip_grad_norm_(parameters, settings.GradientClipNorm);
                    optimizer.step();

                    float totalValue = total.item<float>();
                    if (!float.IsFinite(totalValue))
                        throw new InvalidOperationException(
                            $"Training diverged at step {step + 1} (epoch {epoch + 1}): loss is {totalValue} " +
                            $"(host {hostLoss?.item<float>()}, SP {spatialLoss?.item<float>()}). Lower LearningRate or check the images.");
                    var record = new StepRecord(step, epoch, hostLoss?.item<float>() ?? 0f, spatialLoss?.item<float>() ?? 0f, totalValue, lr);
                    history.Steps.Add(record);
                    Report(settings, record, totalSteps, batchSize, clock.Elapsed);
                }
            }
        }
        history.Elapsed = clock.Elapsed;

        backbone.eval();
        if (plugin is not null && validationIndices.Length > 0)
            history.SpatialValidationLossAfter = SpatialValidationLoss(backbone, plugin, images, validationIndices, settings, device);
        return new PretrainingResult(backbone, history);
    }

    private static HostObjective? CreateHost(PretrainingSettings settings, long featureDimension)
        => settings.Framework switch
        {
            SslFramework.None => null,
            SslFramework.SimClr => new SimClrObjective(featureDimension, settings.ImageSize),
            _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.Framework, $"Framework '{settings.Framework}' is not available in this version."),
        };

    /// <summary>
    /// Mean SP loss on held-out images with pairs drawn from a fixed seed and no photometric augmentation, so the value
    /// before and after training compares the same pairs.
    /// </summary>
    internal static float SpatialValidationLoss(BackboneModule backbone, SpatialPredictionPlugin plugin, Tensor images,
        long[] indices, PretrainingSettings settings, Device device)
    {
        bool backboneTraining = backbone.training, pluginTraining = plugin.training;
        backbone.eval();
        plugin.eval();
        try
        {
            var random = new Random(unchecked(settings.Seed * 31 + 7));
            double sum = 0;
            int count = 0;
            using var noGrad = no_grad();
            for (int start = 0; start < indices.Length; start += 256)
            {
                using var scope = NewDisposeScope();
                int length = Math.Min(256, indices.Length - start);
                var batch = Gather(images, indices.AsSpan(start, length), device);
                var (reference, target, targets) = plugin.SampleViews(batch, random, PhotometricAugmentation.Identity);
                var predicted = plugin.Head.forward(backbone.forward(reference), backbone.forward(target));
                sum += plugin.Settings.Loss.Compute(predicted, targets).item<float>() * length;
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

    /// <summary>Selects images by index and moves them to the device as float in [0, 1] (bytes are divided by 255).</summary>
    private static Tensor Gather(Tensor images, ReadOnlySpan<long> indices, Device device)
    {
        var index = tensor(indices.ToArray(), dtype: ScalarType.Int64);
        var batch = images.index_select(0, index).to(device);
        return batch.dtype == ScalarType.Byte ? batch.to_type(ScalarType.Float32).div_(255f) : batch;
    }

    private static (long[] Train, long[] Validation) Split(long count, double validationFraction, Random random)
    {
        var shuffled = Enumerable.Range(0, (int)count).Select(i => (long)i).OrderBy(_ => random.Next()).ToArray();
        int validation = (int)Math.Floor(count * validationFraction);
        return (shuffled[validation..], shuffled[..validation]);
    }

    private static void Report(PretrainingSettings settings, StepRecord record, int totalSteps, int batchSize, TimeSpan elapsed)
    {
        if (settings.Progress is null) return;
        int done = record.Step + 1;
        double imagesPerSecond = done * batchSize / Math.Max(1e-9, elapsed.TotalSeconds);
        var remaining = TimeSpan.FromSeconds(elapsed.TotalSeconds / done * (totalSteps - done));
        settings.Progress.Report(new PretrainingProgress(done, totalSteps, record.Epoch + 1, record.HostLoss, record.SpatialLoss,
            record.TotalLoss, record.LearningRate, imagesPerSecond, remaining));
    }

    private static void Validate(Tensor images, PretrainingSettings settings)
    {
        if (images.dim() != 4 || images.shape[1] != 3)
            throw new ArgumentException($"Expected images of shape [N, 3, H, W]; got [{string.Join(", ", images.shape)}].", nameof(images));
        if (images.shape[2] != settings.ImageSize || images.shape[3] != settings.ImageSize)
            throw new ArgumentException($"Images are {images.shape[3]}×{images.shape[2]} but ImageSize is {settings.ImageSize}.", nameof(images));
        if (settings.Epochs < 0) throw new ArgumentOutOfRangeException(nameof(settings), settings.Epochs, "Epochs must not be negative.");
        if (settings.BatchSize < 2) throw new ArgumentOutOfRangeException(nameof(settings), settings.BatchSize, "BatchSize must be at least 2 (contrastive and batch-norm statistics need pairs).");
        if (settings.Epochs > 0 && settings.Framework == SslFramework.None && !settings.UsesSpatialPrediction)
            throw new ArgumentException("Nothing to train: Framework is None and Spatial Prediction is off. Enable one of them.", nameof(settings));
        if (!(settings.ValidationFraction >= 0 && settings.ValidationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(settings), settings.ValidationFraction, "ValidationFraction must be in [0, 1).");
        long trainCount = images.shape[0] - (long)Math.Floor(images.shape[0] * settings.ValidationFraction);
        if (settings.Epochs > 0 && trainCount < 2)
            throw new ArgumentException($"Only {trainCount} training image(s) after holding out the validation split; at least 2 are needed.", nameof(images));
    }
}
