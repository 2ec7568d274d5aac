using SpatialPrediction.ML.Backbones;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Training;

/// <summary>
/// bfloat16 training without autocast (TorchSharp has none). The trained backbone keeps its float32 weights: they are
/// the master copy the optimiser, the clip, checkpoints and the teacher see. A bfloat16 working copy computes forward
/// and backward — its batch norms stay float32 (weights and running statistics; libtorch's CPU batch norm takes
/// bfloat16 input with float32 parameters) — and hands the heads and losses its features cast back to float32.
/// <see cref="Pull"/> refreshes the copy from the master before a step's first micro-batch; <see cref="PushGradients"/>
/// adds the copy's gradients to the master's in float32 after every backward; <see cref="PushStatistics"/> hands the
/// batch-norm statistics back.
/// </summary>
internal sealed class BFloat16Backbone : BackboneModule
{
    private readonly BackboneModule master, compute;
    private readonly List<(Parameter Master, Parameter Compute)> parameterPairs;
    private readonly List<(Tensor Master, Tensor Compute)> bufferPairs, statisticPairs;
    private readonly List<(nn.Module Master, nn.Module Compute)> modulePairs;

    /// <summary>Makes the working copy of <paramref name="master"/> with a fresh module of the same architecture.</summary>
    public BFloat16Backbone(BackboneModule master, Func<BackboneModule> create) : base("BFloat16" + master.Kind)
    {
        this.master = master;
        compute = create();
        compute.load_state_dict(master.state_dict());
        compute.to(master.parameters().First().device).to(ScalarType.BFloat16);
        foreach (var (_, module) in compute.named_modules())
            if (module is BatchNorm2d or BatchNorm1d) module.to(ScalarType.Float32);
        compute.Apply(master.Plan);
        parameterPairs = master.named_parameters().Zip(compute.named_parameters(), (m, c) => (m.parameter, c.parameter)).ToList();
        var buffers = master.named_buffers().Zip(compute.named_buffers(), (m, c) => (m.name, Pair: (m.buffer, c.buffer))).ToList();
        bufferPairs = buffers.Select(b => b.Pair).ToList();
        // Only the batch norms' statistics change in a forward pass (and stay float32); other buffers are the master's.
        statisticPairs = buffers.Where(b => b.name.EndsWith("running_mean", StringComparison.Ordinal) || b.name.EndsWith("running_var", StringComparison.Ordinal)
            || b.name.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Select(b => b.Pair).ToList();
        modulePairs = master.named_modules().Zip(compute.named_modules(), (m, c) => (m.module, c.module)).ToList();
        if (parameterPairs.Any(p => !p.Master.shape.SequenceEqual(p.Compute.shape)))
            throw new InvalidOperationException("The bfloat16 working copy does not match the backbone's parameters.");
    }

    /// <summary>Copies the master's weights (cast), statistics, trainable flags and train/eval modes into the working copy.</summary>
    public void Pull()
    {
        using (no_grad())
        {
            foreach (var (m, c) in parameterPairs)
            {
                c.copy_(m);
                c.requires_grad = m.requires_grad;
            }
            foreach (var (m, c) in bufferPairs) c.copy_(m);
        }
        // Pre-order: each call sets the subtree, later (deeper) calls override, so every module ends as its master is.
        foreach (var (m, c) in modulePairs) c.train(m.training);
    }

    /// <summary>Adds the working copy's gradients to the master's (float32) and drops them.</summary>
    public void PushGradients()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var (m, c) in parameterPairs)
        {
            if (c.grad is not { } g) continue;
            // The first term of a step hands its gradient over as a new float32 tensor, later ones add into it.
            if (m.grad is { } sum) sum.add_(g);
            else m.grad = g.to(ScalarType.Float32);
            c.grad = null;
        }
    }

    /// <summary>Sets the convolution plan of this module and of the working copy that computes.</summary>
    public void SetPlan(ConvolutionPlan plan)
    {
        Apply(plan);
        compute.Apply(plan);
    }

    /// <summary>The convolution plan the working copy computes with.</summary>
    internal ConvolutionPlan ComputePlan => compute.Plan;

    /// <summary>Copies the working copy's batch-norm statistics (updated by its forward passes) to the master.</summary>
    public void PushStatistics()
    {
        using var noGrad = no_grad();
        foreach (var (m, c) in statisticPairs) m.copy_(c);
    }

    /// <inheritdoc />
    public override int FeatureDimension => master.FeatureDimension;
    /// <inheritdoc />
    public override int MinInputSize => master.MinInputSize;
    /// <inheritdoc />
    public override int MaxInputSize => master.MaxInputSize;
    /// <inheritdoc />
    public override int InputSizeMultiple => master.InputSizeMultiple;
    /// <inheritdoc />
    public override BackboneKind Kind => master.Kind;

    /// <inheritdoc />
    public override Tensor forward(Tensor images) => compute.forward(images.to(ScalarType.BFloat16)).to(ScalarType.Float32);

    /// <inheritdoc />
    public override Tensor FeatureMap(Tensor images) => compute.FeatureMap(images.to(ScalarType.BFloat16)).to(ScalarType.Float32);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) compute.Dispose();
        base.Dispose(disposing);
    }
}
