using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Backbones;

/// <summary>
/// Chooses a backbone's convolution layout by measuring, like cuDNN's benchmark mode: on the CPU, a few timed passes of
/// each candidate on a throwaway module of the same architecture (so no weight, statistic or random stream of the run changes),
/// for the shape the run uses, training (forward and backward) or inference. The choice and the timings are cached per
/// machine, architecture and shape (<see cref="CalibrationCache"/>). Which layout wins differs between CPUs: channels-last was faster for
/// training on an AMD EPYC (Zen 4) and slower on an Intel Xeon with AVX-512 (issue 20).
/// </summary>
internal static class LayoutCalibration
{
    /// <summary>Milliseconds per pass of one candidate.</summary>
    public sealed record Candidate(ConvolutionLayout Layout, double Milliseconds);

    /// <summary>The layout chosen, the candidates' timings and whether they came from the cache.</summary>
    public sealed record Choice(ConvolutionLayout Layout, IReadOnlyList<Candidate> Candidates, bool Cached, string Key)
    {
        public override string ToString() => Candidates.Count == 0
            ? $"{Layout}"
            : $"{Layout} ({string.Join(", ", Candidates.Select(c => $"{c.Layout} {c.Milliseconds:F0} ms"))} per pass{(Cached ? ", cached" : ", measured")})";
    }

    /// <summary>Resolves <paramref name="requested"/>: a fixed layout as it is, Auto by measurement (or the cache).</summary>
    public static Choice Resolve(ConvolutionLayout requested, BackboneSpec spec, int batch, int size, bool training, Device device,
        string? cacheFolder = null)
    {
        if (!BackboneFactory.SupportsChannelsLast(spec.Kind) || device.type != DeviceType.CPU) return new Choice(ConvolutionLayout.ChannelsFirst, Array.Empty<Candidate>(), false, "");
        if (requested != ConvolutionLayout.Auto) return new Choice(requested, Array.Empty<Candidate>(), false, "");
        string key = string.Join("|", CalibrationCache.MachineKey(), spec.Kind, spec.Width, batch, size, training ? "training" : "inference");
        string file = Path.Combine(cacheFolder ?? DefaultCacheFolder, "layouts.json");
        var cache = CalibrationCache.Read<Choice>(file);
        if (cache.TryGetValue(key, out var known)) return known with { Cached = true };

        var candidates = Measure(spec, batch, size, training);
        var choice = new Choice(candidates.MinBy(c => c.Milliseconds)!.Layout, candidates, false, key);
        cache[key] = choice;
        CalibrationCache.Write(file, cache);
        return choice;
    }

    /// <summary>$XDG_CACHE_HOME/spatial-prediction/calibration (default ~/.cache/…).</summary>
    public static string DefaultCacheFolder => CalibrationCache.DefaultFolder;

    /// <summary>Times both layouts with <see cref="AlternatingTimer"/>: the median pass of each.</summary>
    private static List<Candidate> Measure(BackboneSpec spec, int batch, int size, bool training)
    {
        using var scope = NewDisposeScope();
        // A module of its own, made without disturbing the run's random stream (its weights do not matter for timing).
        using var rng = get_rng_state();
        using var module = BackboneFactory.Create(spec);
        set_rng_state(rng);
        module.train(training);
        foreach (var parameter in module.parameters()) parameter.requires_grad = training;
        using var input = ones(batch, 3, size, size);
        var layouts = new[] { ConvolutionLayout.ChannelsFirst, ConvolutionLayout.ChannelsLast };
        return AlternatingTimer.Medians(layouts, layout =>
        {
            module.Layout = layout;
            using var passScope = NewDisposeScope();
            if (training) module.forward(input).mean().backward();
            else
            {
                using var noGrad = inference_mode();
                module.forward(input);
            }
        }, rounds: 4).Select(t => new Candidate(t.Candidate, t.Milliseconds)).ToList();
    }
}
