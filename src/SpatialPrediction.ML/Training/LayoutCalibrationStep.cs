using SpatialPrediction.ML.Machine;
using SpatialPrediction.ML.MLNet;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Views;
using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Training;

/// <summary>
/// A training step's work on throwaway copies, for the layout calibration to time: a fresh backbone and fresh terms of
/// the run's settings, views of the run's first pictures, every term's loss forward and backward — teachers, heads and
/// the bfloat16 working copy included — so the layouts are compared on what a step really runs (the backbone's passes
/// alone can tie where whole steps do not; docs/performance.md). Nothing of the run is touched: not its weights,
/// statistics, random streams or views.
/// </summary>
internal sealed class LayoutCalibrationStep : IDisposable
{
    private readonly BackboneModule backbone;
    private readonly BFloat16Backbone? bfloat16;
    private readonly List<TrainingTerm> terms = new();
    private readonly List<ViewSet> views;

    public LayoutCalibrationStep(PretrainingSettings settings, TrainingImages images, long[] indices, Device device)
    {
        var spec = settings.BackboneSpec;
        using (var rng = get_rng_state())
        {
            backbone = BackboneFactory.Create(spec);
            var (host, plugin) = SpatialPretrainer.CreateTerms(settings, backbone);
            if (host is not null) terms.Add(host);
            if (plugin is not null) terms.Add(plugin);
            backbone.to(device);
            foreach (var term in terms)
            {
                term.to(device);
                term.train();
            }
            if (settings.TrainingPrecision == ComputePrecision.BFloat16) bfloat16 = new BFloat16Backbone(backbone, () => BackboneFactory.Create(spec));
            set_rng_state(rng);
        }
        using var pictures = images.Gather(indices);
        var random = new Random(0);
        views = terms.Select(t => t.MakeViews(pictures, random, device).Detach()).ToList();
    }

    /// <summary>One step's forward and backward passes as <paramref name="plan"/> says.</summary>
    public void Run(ConvolutionPlan plan)
    {
        SpatialPretrainer.ApplyPlan(backbone, terms, plan);
        bfloat16?.SetPlan(plan);
        using var scope = NewDisposeScope();
        bfloat16?.Pull();
        BackboneModule computing = bfloat16 ?? backbone;
        for (int i = 0; i < terms.Count; i++)
        {
            terms[i].Loss(computing, views[i]).backward(retain_graph: terms[i].GraphReadByLaterTerms);
            bfloat16?.PushGradients();
        }
        foreach (var host in terms.OfType<Objectives.HostObjective>()) host.ClearFirstPair();
        foreach (var parameter in backbone.parameters().Concat(terms.SelectMany(t => t.parameters()))) parameter.grad = null;
    }

    public void Dispose()
    {
        foreach (var set in views) set.Dispose();
        foreach (var term in terms) term.Dispose();
        bfloat16?.Dispose();
        backbone.Dispose();
    }
}
