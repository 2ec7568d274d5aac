namespace SpatialPrediction.ML.Interop;

/// <summary>How the names in a weights file are spelled.</summary>
public enum WeightNaming
{
    /// <summary>This library's own names (what <c>SpatialBackbone.ExportSafetensors</c> writes).</summary>
    Native = 0,
    /// <summary>TorchVision's ResNet names (<c>conv1</c>, <c>layer1.0.bn1</c>, ...), for ResNet18 and ResNet50.</summary>
    TorchvisionResNet = 1,
}

/// <summary>What a weight import did.</summary>
/// <param name="Loaded">Backbone tensors set from the file.</param>
/// <param name="Missing">Backbone tensors the file did not provide (left as they were).</param>
/// <param name="Unexpected">File tensors with no place in the backbone (e.g. a classifier), ignored.</param>
public sealed record WeightImportReport(IReadOnlyList<string> Loaded, IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected);
