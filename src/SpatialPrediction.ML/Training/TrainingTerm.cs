using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Views;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Training;

/// <summary>
/// One term of the training objective on the shared backbone — a host objective, SP, or any other loss. It makes its
/// own views of a batch (on the loader thread, from the batch's random stream, in the order the terms are listed) and
/// computes its loss from them (on the training thread). The engine weights each term by its own schedule, sums them,
/// backpropagates them one after the other and logs each term's loss and gradient norm at the backbone.
/// </summary>
internal abstract class TrainingTerm : nn.Module
{
    /// <summary>Creates the module.</summary>
    protected TrainingTerm(string name) : base(name) { }

    /// <summary>The term's name in logs and errors.</summary>
    public abstract string TermName { get; }

    /// <summary>The views this term trains on, cut from a batch of source pictures, on <paramref name="device"/>.</summary>
    public abstract ViewSet MakeViews(PictureBatch pictures, Random random, Device device);

    /// <summary>The term's loss on views made by <see cref="MakeViews"/>.</summary>
    public abstract Tensor Loss(BackboneModule backbone, ViewSet views);

    /// <summary>
    /// The backbone calls one step of this term makes for a batch of <paramref name="batch"/> pictures, as its
    /// <see cref="Loss"/> makes them (views of a family go through in one call). The layout calibration times them; a
    /// term that lists none is left out of it.
    /// </summary>
    public virtual IEnumerable<BackbonePass> BackbonePasses(int batch) => Array.Empty<BackbonePass>();

    /// <summary>
    /// Whether a term after this one reads this term's forward graph (SP on the host's own views), so this term's
    /// backward must keep the graph for it.
    /// </summary>
    public virtual bool GraphReadByLaterTerms => false;

    /// <summary>Parameters the optimiser updates: everything with <c>requires_grad</c>, so teachers are left out.</summary>
    public IEnumerable<Parameter> TrainableParameters() => parameters().Where(p => p.requires_grad);
}
