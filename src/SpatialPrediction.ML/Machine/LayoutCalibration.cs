using SpatialPrediction.ML.Backbones;
using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Machine;

/// <summary>
/// Chooses a backbone's convolution plan by measuring, like cuDNN's benchmark mode, on the CPU and without touching the
/// run's weights, statistics or random stream: for featurisation, a few timed inference passes of each layout on a
/// throwaway module of the same architecture; for training, a few timed throwaway steps (the run's terms, batch, sizes
/// and precision) in each candidate plan. The choice and the timings are cached per machine, architecture and shape
/// (<see cref="CalibrationCache"/>). Which layout wins differs between CPUs and precisions (docs/performance.md).
/// </summary>
internal static class LayoutCalibration
{
    /// <summary>Milliseconds per pass (or step) of one candidate.</summary>
    public sealed record Candidate(ConvolutionLayout Layout, double Milliseconds, bool SmallMapsAsMatrices = false)
    {
        [JsonIgnore] public ConvolutionPlan Plan => new(Layout, SmallMapsAsMatrices);
    }

    /// <summary>The plan chosen, the candidates' timings and whether they came from the cache.</summary>
    public sealed record Choice(ConvolutionLayout Layout, IReadOnlyList<Candidate> Candidates, bool Cached, string Key, bool SmallMapsAsMatrices = false)
    {
        [JsonIgnore] public ConvolutionPlan Plan => new(Layout, SmallMapsAsMatrices);

        public override string ToString() => Candidates.Count == 0
            ? $"{Plan}"
            : $"{Plan} ({string.Join(", ", Candidates.Select(c => $"{c.Plan} {c.Milliseconds:F0} ms"))} per {(Key.Contains(TrainingStepKey, StringComparison.Ordinal) ? "step" : "pass")}{(Cached ? ", cached" : ", measured")})";
    }

    /// <summary>
    /// Resolves <paramref name="requested"/> for featurising batches of <paramref name="batch"/> images of
    /// <paramref name="size"/> px: a fixed layout as it is, Auto by timing inference passes of both layouts on a throwaway
    /// module — or from the cache.
    /// </summary>
    public static Choice ResolveInference(ConvolutionLayout requested, BackboneSpec spec, int batch, int size, Device device, string? cacheFolder = null)
    {
        if (Fixed(requested, spec, device) is { } fixedChoice) return fixedChoice;
        var pass = new BackbonePass(batch, size, Backward: false);
        return Cached(Key(spec, new[] { pass }, "inference", bfloat16: false), cacheFolder, () => MeasureInference(spec, pass));
    }

    /// <summary>
    /// Resolves <paramref name="requested"/> for a training step: a fixed layout as it is, Auto by timing a whole
    /// throwaway <paramref name="step"/> (made only when a measurement is needed) in each candidate plan — or from the
    /// cache. The step's <paramref name="passes"/> (every term's backbone calls at their real batch and size) and its
    /// precision name its shape in the cache; for ResNets of basic blocks channels-last with the small maps as matrices
    /// (<see cref="SmallMapConvolution"/>) is a third candidate.
    /// </summary>
    public static Choice ResolveTraining(ConvolutionLayout requested, BackboneSpec spec, IReadOnlyList<BackbonePass> passes, Device device,
        bool bfloat16, Func<(Action<ConvolutionPlan> Run, IDisposable Owner)> step, string? cacheFolder = null)
    {
        if (Fixed(requested, spec, device) is { } fixedChoice) return fixedChoice;
        if (passes.Count == 0) throw new ArgumentException("A calibration needs at least one backbone pass.", nameof(passes));
        bool matrices = BackboneRegistry.For(spec.Kind).SmallMapsAsMatrices;
        string measured = matrices ? TrainingStepKey + ", small maps as matrices" : TrainingStepKey;
        return Cached(Key(spec, passes, measured, bfloat16), cacheFolder, () => MeasureSteps(step, matrices));
    }

    /// <summary>What a training calibration's key says it timed (a whole step, not bare passes).</summary>
    private const string TrainingStepKey = "training step";

    /// <summary>The choice without measuring: channels-first where channels-last is not offered, a requested layout as it is.</summary>
    private static Choice? Fixed(ConvolutionLayout requested, BackboneSpec spec, Device device)
    {
        if (!BackboneRegistry.For(spec.Kind).ChannelsLast || device.type != DeviceType.CPU) return new Choice(ConvolutionLayout.ChannelsFirst, Array.Empty<Candidate>(), false, "");
        if (requested != ConvolutionLayout.Auto) return new Choice(requested, Array.Empty<Candidate>(), false, "");
        return null;
    }

    private static string Key(BackboneSpec spec, IReadOnlyList<BackbonePass> passes, string measured, bool bfloat16)
        => string.Join("|", CalibrationCache.MachineKey(), spec.Kind, spec.Width, string.Join(" + ", passes), measured, bfloat16 ? "bfloat16" : "float32");

    /// <summary>The cached choice under <paramref name="key"/>, or a new one measured, decided and cached.</summary>
    private static Choice Cached(string key, string? cacheFolder, Func<List<Candidate>> measure)
    {
        var choice = CalibrationCache.GetOrMeasure("layouts.json", key, cacheFolder, () =>
        {
            var candidates = measure();
            var plan = Decide(candidates);
            return new Choice(plan.Layout, candidates, false, key, plan.SmallMapsAsMatrices);
        }, out bool cached);
        return choice with { Cached = cached };
    }

    /// <summary>
    /// Channels-last, oneDNN's own layout, unless another candidate is faster by more than <see cref="Margin"/> (closer
    /// timings are within the measurement's noise): small maps as matrices when they beat plain channels-last so, then
    /// channels-first when it beats the better of the two so.
    /// </summary>
    internal static ConvolutionPlan Decide(IReadOnlyList<Candidate> candidates)
    {
        double Time(ConvolutionPlan plan) => candidates.SingleOrDefault(c => c.Plan == plan)?.Milliseconds ?? double.PositiveInfinity;
        var last = new ConvolutionPlan(ConvolutionLayout.ChannelsLast);
        var matrices = last with { SmallMapsAsMatrices = true };
        var best = Time(matrices) < Time(last) * (1 - Margin) ? matrices : last;
        return Time(new ConvolutionPlan(ConvolutionLayout.ChannelsFirst)) < Time(best) * (1 - Margin) ? new ConvolutionPlan(ConvolutionLayout.ChannelsFirst) : best;
    }

    /// <summary>How much faster than channels-last another candidate must be to be chosen.</summary>
    public const double Margin = 0.02;

    /// <summary>Times the candidates on a throwaway step with <see cref="AlternatingTimer"/>: each candidate's median step.</summary>
    private static List<Candidate> MeasureSteps(Func<(Action<ConvolutionPlan> Run, IDisposable Owner)> make, bool matrices)
    {
        var plans = new List<ConvolutionPlan> { new(ConvolutionLayout.ChannelsFirst), new(ConvolutionLayout.ChannelsLast) };
        if (matrices) plans.Add(new ConvolutionPlan(ConvolutionLayout.ChannelsLast, SmallMapsAsMatrices: true));
        var (run, owner) = make();
        using (owner)
        {
            return AlternatingTimer.Medians(plans, run, rounds: 4)
                .Select(t => new Candidate(t.Candidate.Layout, t.Milliseconds, t.Candidate.SmallMapsAsMatrices)).ToList();
        }
    }

    /// <summary>Times inference passes of both layouts with <see cref="AlternatingTimer"/>: each candidate's median pass.</summary>
    private static List<Candidate> MeasureInference(BackboneSpec spec, BackbonePass pass)
    {
        using var scope = NewDisposeScope();
        // A module of its own, made without disturbing the run's random stream (its weights do not matter for timing).
        using var rng = get_rng_state();
        using var module = BackboneFactory.Create(spec);
        set_rng_state(rng);
        module.eval();
        var input = ones(new long[] { pass.Images, 3, pass.Size, pass.Size });
        var layouts = new[] { ConvolutionLayout.ChannelsFirst, ConvolutionLayout.ChannelsLast };
        return AlternatingTimer.Medians(layouts, layout =>
        {
            module.Layout = layout;
            using var passScope = NewDisposeScope();
            using var inference = inference_mode();
            module.forward(input);
        }, rounds: 4).Select(t => new Candidate(t.Candidate, t.Milliseconds)).ToList();
    }
}
