using SpatialPrediction.ML.Backbones;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Interop;

/// <summary>
/// Copies named tensors into a backbone module after checking every name and shape: a missing tensor (unless allowed)
/// or a shape mismatch fails naming the tensors, and nothing is changed; tensors with no place in the backbone (a
/// classifier) are ignored and listed in the report. The caller keeps ownership of the tensors.
/// </summary>
internal static class WeightImport
{
    public static WeightImportReport Into(BackboneModule module, BackboneKind kind, IReadOnlyDictionary<string, Tensor> tensors, WeightNaming naming,
        bool allowMissing, string source)
    {
        var expected = module.state_dict();
        var matched = new Dictionary<string, Tensor>();
        var unexpected = new List<string>();
        var mismatched = new List<string>();
        foreach (var (name, value) in tensors)
        {
            string? ours = naming == WeightNaming.Native ? name : TorchvisionResNetKeys.ToOurs(name, kind) ?? (expected.ContainsKey(name) ? name : null);
            if (ours is null || !expected.TryGetValue(ours, out var target))
            {
                unexpected.Add(name);
                continue;
            }
            if (!target.shape.SequenceEqual(value.shape))
                mismatched.Add($"{name} (file [{string.Join(", ", value.shape)}], backbone [{string.Join(", ", target.shape)}])");
            else matched[ours] = value;
        }
        var missing = expected.Keys.Where(k => !matched.ContainsKey(k)).ToList();
        if (mismatched.Count > 0)
            throw new InvalidDataException($"{source}: shapes differ from the {kind} backbone for {string.Join("; ", mismatched.Take(10))}.");
        if (missing.Count > 0 && !allowMissing)
            throw new InvalidDataException(
                $"{source}: the file has no value for {missing.Count} backbone tensor(s): {string.Join(", ", missing.Take(10))}" +
                (missing.Count > 10 ? ", ..." : "") + ". Check the naming (WeightNaming) or pass allowMissing: true.");
        using (no_grad())
        {
            foreach (var (ours, value) in matched) expected[ours].copy_(value);
        }
        return new WeightImportReport(matched.Keys.ToList(), missing, unexpected);
    }
}
