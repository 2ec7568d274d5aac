using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Backbones;

/// <summary>
/// Chooses a backbone's convolution layout by measuring, like cuDNN's benchmark mode: on the CPU, a few timed passes of
/// each candidate on a throwaway module of the same architecture (so no weight, statistic or random stream of the run changes),
/// for the passes the run makes: a training step's backbone calls (forward, and backward where gradients flow) at their
/// real batch and size and in the step's precision, or a featurisation batch. The choice and the timings are cached per
/// machine, architecture and shape (<see cref="CalibrationCache"/>). Which layout wins differs between CPUs: channels-last was faster for
/// training on an AMD EPYC (Zen 4) and slower on an Intel Xeon with AVX-512 (issue 20).
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
            : $"{Plan} ({string.Join(", ", Candidates.Select(c => $"{c.Plan} {c.Milliseconds:F0} ms"))} per {(Key.Contains("training step", StringComparison.Ordinal) ? "step" : "pass")}{(Cached ? ", cached" : ", measured")})";
    }

    /// <summary>Resolves <paramref name="requested"/> for one pass of <paramref name="batch"/> images (see the overload with passes).</summary>
    public static Choice Resolve(ConvolutionLayout requested, BackboneSpec spec, int batch, int size, bool training, Device device,
        string? cacheFolder = null)
        => Resolve(requested, spec, new[] { new BackbonePass(batch, size, training) }, training, device, bfloat16: false, cacheFolder);

    /// <summary>
    /// Resolves <paramref name="requested"/>: a fixed layout as it is, Auto by timing — or from the cache — the
    /// <paramref name="passes"/> of a training step (<paramref name="training"/>, every term's backbone calls at their
    /// real batch and size) or of a featurisation batch, in float32 or in the bfloat16 the step computes in. With
    /// <paramref name="step"/> (made only when a measurement is needed) a whole throwaway step is timed instead of the
    /// bare passes, which still name the shape in the cache; for ResNets of basic blocks it also times channels-last
    /// with the small maps as matrices (<see cref="SmallMapConvolution"/>).
    /// </summary>
    public static Choice Resolve(ConvolutionLayout requested, BackboneSpec spec, IReadOnlyList<BackbonePass> passes, bool training, Device device,
        bool bfloat16 = false, string? cacheFolder = null, Func<(Action<ConvolutionPlan> Run, IDisposable Owner)>? step = null)
    {
        if (!BackboneFactory.SupportsChannelsLast(spec.Kind) || device.type != DeviceType.CPU) return new Choice(ConvolutionLayout.ChannelsFirst, Array.Empty<Candidate>(), false, "");
        if (requested != ConvolutionLayout.Auto) return new Choice(requested, Array.Empty<Candidate>(), false, "");
        if (passes.Count == 0) throw new ArgumentException("A calibration needs at least one backbone pass.", nameof(passes));
        bool matrices = step is not null && BackboneFactory.HasBasicBlocks(spec.Kind);
        string key = string.Join("|", CalibrationCache.MachineKey(), spec.Kind, spec.Width, string.Join(" + ", passes),
            training ? (step is null ? "training" : matrices ? "training step, small maps as matrices" : "training step") : "inference",
            bfloat16 ? "bfloat16" : "float32");
        string file = Path.Combine(cacheFolder ?? DefaultCacheFolder, "layouts.json");
        var cache = CalibrationCache.Read<Choice>(file);
        if (cache.TryGetValue(key, out var known)) return known with { Cached = true };

        var candidates = step is null ? Measure(spec, passes, training, bfloat16) : MeasureSteps(step, matrices);
        var plan = Decide(candidates);
        var choice = new Choice(plan.Layout, candidates, false, key, plan.SmallMapsAsMatrices);
        cache[key] = choice;
        CalibrationCache.Write(file, cache);
        return choice;
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

    /// <summary>$XDG_CACHE_HOME/spatial-prediction/calibration (default ~/.cache/…).</summary>
    public static string DefaultCacheFolder => CalibrationCache.DefaultFolder;

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

    /// <summary>Times both layouts with <see cref="AlternatingTimer"/>: the median of each candidate's passes together.</summary>
    private static List<Candidate> Measure(BackboneSpec spec, IReadOnlyList<BackbonePass> passes, bool training, bool bfloat16)
    {
        using var scope = NewDisposeScope();
        // A module of its own, made without disturbing the run's random stream (its weights do not matter for timing).
        using var rng = get_rng_state();
        using var module = BackboneFactory.Create(spec);
        set_rng_state(rng);
        var dtype = bfloat16 ? ScalarType.BFloat16 : ScalarType.Float32;
        if (bfloat16)
        {
            // As the bfloat16 working copy computes: convolutions in bfloat16, batch norms in float32.
            module.to(ScalarType.BFloat16);
            foreach (var (_, child) in module.named_modules())
                if (child is TorchSharp.Modules.BatchNorm2d or TorchSharp.Modules.BatchNorm1d) child.to(ScalarType.Float32);
        }
        module.train(training);
        foreach (var parameter in module.parameters()) parameter.requires_grad = training;
        var inputs = passes.Select(p => ones(new long[] { p.Images, 3, p.Size, p.Size }, dtype: dtype)).ToList();
        var layouts = new[] { ConvolutionLayout.ChannelsFirst, ConvolutionLayout.ChannelsLast };
        return AlternatingTimer.Medians(layouts, layout =>
        {
            module.Layout = layout;
            for (int i = 0; i < passes.Count; i++)
            {
                using var passScope = NewDisposeScope();
                if (training && passes[i].Backward) module.forward(inputs[i]).to(ScalarType.Float32).mean().backward();
                else if (training)
                {
                    using var noGrad = no_grad();
                    module.forward(inputs[i]);
                }
                else
                {
                    using var inference = inference_mode();
                    module.forward(inputs[i]);
                }
            }
        }, rounds: 4).Select(t => new Candidate(t.Candidate, t.Milliseconds)).ToList();
    }
}
