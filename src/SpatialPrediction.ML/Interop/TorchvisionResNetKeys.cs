using System.Text.RegularExpressions;
using SpatialPrediction.ML.Backbones;

namespace SpatialPrediction.ML.Interop;

/// <summary>
/// Maps TorchVision's ResNet state-dict names (<c>conv1</c>, <c>bn1</c>, <c>layer3.1.conv2</c>,
/// <c>layer2.0.downsample.0</c>, ...) onto this library's <see cref="ResNet"/> names (<c>stem.*</c>, <c>stages.N.*</c>),
/// so weights trained in PyTorch and saved as safetensors load into our backbone. Names that do not belong to the
/// backbone (the classifier <c>fc.*</c>) map to null.
/// </summary>
internal static partial class TorchvisionResNetKeys
{
    /// <summary>Our name for a TorchVision ResNet parameter or buffer name, or null when it has no counterpart.</summary>
    public static string? ToOurs(string name, BackboneKind kind)
    {
        int[] depths = kind switch
        {
            BackboneKind.ResNet18 => new[] { 2, 2, 2, 2 },
            BackboneKind.CntkResNet18 => new[] { 2, 2, 2, 3 },
            BackboneKind.ResNet50 => new[] { 3, 4, 6, 3 },
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "TorchVision-style names exist for ResNet18, CntkResNet18 and ResNet50 only."),
        };
        if (name.StartsWith("conv1.", StringComparison.Ordinal)) return "stem.0." + name["conv1.".Length..];
        if (name.StartsWith("bn1.", StringComparison.Ordinal)) return "stem.1." + name["bn1.".Length..];
        var match = LayerPattern().Match(name);
        if (!match.Success) return null;
        int layer = int.Parse(match.Groups[1].Value), block = int.Parse(match.Groups[2].Value);
        int flat = depths.Take(layer - 1).Sum() + block;
        string rest = match.Groups[3].Value;
        string inner = rest.StartsWith("downsample.", StringComparison.Ordinal)
            ? "shortcut." + rest["downsample.".Length..]
            : kind != BackboneKind.ResNet50 ? rest : BottleneckName(rest);
        return $"stages.{flat}.{inner}";
    }

    private static string BottleneckName(string rest)
    {
        // Our bottleneck is one Sequential: conv1 bn1 relu conv2 bn2 relu conv3 bn3.
        var part = rest.Split('.', 2);
        int index = part[0] switch
        {
            "conv1" => 0, "bn1" => 1, "conv2" => 3, "bn2" => 4, "conv3" => 6, "bn3" => 7,
            _ => -1,
        };
        return index < 0 ? rest : $"body.{index}.{part[1]}";
    }

    [GeneratedRegex(@"^layer([1-4])\.(\d+)\.(.+)$")]
    private static partial Regex LayerPattern();
}
