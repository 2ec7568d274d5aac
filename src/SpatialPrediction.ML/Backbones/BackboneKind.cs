namespace SpatialPrediction.ML.Backbones;

/// <summary>The backbone architectures SP can train.</summary>
public enum BackboneKind
{
    /// <summary>
    /// A four-stage ResNet for 16–128 px inputs: a 3×3 stem without max-pooling (so small images keep their detail),
    /// one basic block per stage at widths w, 2w, 4w, 8w, global average pooling. Feature dimension 8w.
    /// </summary>
    SmallResNet = 0,
    /// <summary>ResNet-18 (He et al., 2016) with the ImageNet stem (7×7/2 convolution and max-pool). 512 features; inputs ≥ 32 px.</summary>
    ResNet18 = 1,
    /// <summary>ResNet-50 with bottleneck blocks and the ImageNet stem. 2048 features; inputs ≥ 32 px.</summary>
    ResNet50 = 2,
    /// <summary>ViT-Tiny (width 192, 12 blocks, 3 heads); the CLS token is the embedding. Inputs: multiples of the patch size.</summary>
    VitTiny = 3,
    /// <summary>ViT-Small (width 384, 12 blocks, 6 heads); the CLS token is the embedding. Inputs: multiples of the patch size.</summary>
    VitSmall = 4,
    /// <summary>
    /// The ResNet-18 of ML.NET's <c>DnnFeaturizeImage</c> (CNTK model zoo): as <see cref="ResNet18"/> but with three basic
    /// blocks in the last stage ([2, 2, 2, 3], 20 weight layers), which is what its ONNX file holds. 512 features.
    /// </summary>
    CntkResNet18 = 5,
}
