namespace SpatialPrediction.ML.Backbones;

/// <summary>The backbone architectures SP can train.</summary>
public enum BackboneKind
{
    /// <summary>
    /// A four-stage ResNet for 16–128 px inputs: a 3×3 stem without max-pooling (so small images keep their detail),
    /// stages of basic blocks at widths w, 2w, 4w, 8w, global average pooling. Feature dimension 8w.
    /// </summary>
    SmallResNet = 0,
}
