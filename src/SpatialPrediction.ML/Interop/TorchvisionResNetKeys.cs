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
        var depths = Depths(kind);
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

    /// <summary>
    /// TorchVision's name for one of our ResNet tensor names (the inverse of <see cref="ToOurs"/>), or null for a tensor
    /// TorchVision's ResNet does not have (the mean-image input buffer of the ImageNet import).
    /// </summary>
    public static string? ToTorchvision(string ours, BackboneKind kind)
    {
        var depths = Depths(kind);
        if (ours.StartsWith("stem.0.", StringComparison.Ordinal)) return "conv1." + ours["stem.0.".Length..];
        if (ours.StartsWith("stem.1.", StringComparison.Ordinal)) return "bn1." + ours["stem.1.".Length..];
        var match = StagePattern().Match(ours);
        if (!match.Success) return null;
        int flat = int.Parse(match.Groups[1].Value), layer = 0;
        while (layer < depths.Count && flat >= depths[layer]) flat -= depths[layer++];
        if (layer == depths.Count) return null;
        string rest = match.Groups[2].Value;
        string inner = rest.StartsWith("shortcut.", StringComparison.Ordinal) ? "downsample." + rest["shortcut.".Length..]
            : rest.StartsWith("body.", StringComparison.Ordinal) ? TorchvisionBottleneckName(rest["body.".Length..]) : rest;
        return $"layer{layer + 1}.{flat}.{inner}";
    }

    private static string TorchvisionBottleneckName(string rest)
    {
        var part = rest.Split('.', 2);
        string name = part[0] switch
        {
            "0" => "conv1", "1" => "bn1", "3" => "conv2", "4" => "bn2", "6" => "conv3", "7" => "bn3",
            _ => throw new ArgumentException($"Bottleneck layer {part[0]} has no TorchVision name.", nameof(rest)),
        };
        return $"{name}.{part[1]}";
    }

    private static IReadOnlyList<int> Depths(BackboneKind kind)
        => kind != BackboneKind.SmallResNet && BackboneRegistry.For(kind).StageBlocks is { } stages
            ? stages
            : throw new ArgumentOutOfRangeException(nameof(kind), kind, "TorchVision-style names exist for ResNet18, CntkResNet18 and ResNet50 only.");

    [GeneratedRegex(@"^stages\.(\d+)\.(.+)$")]
    private static partial Regex StagePattern();

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
