using Microsoft.ML.Data;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Interop;
using SpatialPrediction.ML.MLNet;
using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML;

// The formats a SpatialBackbone comes from and goes to besides its own file: ML.NET's ImageNet ONNX, safetensors in both
// namings, ONNX export. The artifact and its own file format are in SpatialBackbone.cs.
public sealed partial class SpatialBackbone
{
    /// <summary>
    /// The ImageNet ResNet-18 of ML.NET's <c>DnnFeaturizeImage</c>, read offline from the ONNX files of the NuGet package
    /// <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> (see <see cref="Interop.Onnx.DnnImageFeaturizerResNet18"/>): the same
    /// 512-d features as <c>DnnFeaturizeImage</c>, and a starting point for <c>SpatialPretrainOptions.InitialBackbone</c>.
    /// </summary>
    /// <param name="modelFolder">The package's <c>DnnImageModels</c> folder; default: next to the application.</param>
    public static SpatialBackbone ImageNetResNet18(string? modelFolder = null)
    {
        var (module, spec, origin) = Interop.Onnx.DnnImageFeaturizerResNet18.Load(modelFolder);
        return new SpatialBackbone(module, spec, origin, CPU);
    }

    /// <summary>
    /// A backbone with the weights of a safetensors file: the architecture is <paramref name="spec"/>, or else read from
    /// the file's metadata (<c>kind</c>, <c>image_size</c>, <c>width</c>, <c>patch_size</c>, <c>naming</c>: what
    /// <see cref="ExportSafetensors"/> and the Python companion write). Every name and shape is checked as in
    /// <see cref="ImportSafetensors"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The file names no architecture and none was given, or its weights do not fit it.</exception>
    public static SpatialBackbone FromSafetensors(string path, BackboneSpec? spec = null, WeightNaming? naming = null)
    {
        var metadata = SafetensorsFile.ReadMetadata(path);
        spec ??= SpecFrom(metadata, path);
        naming ??= metadata.TryGetValue("naming", out var text) && Enum.TryParse<WeightNaming>(text, out var named) ? named : WeightNaming.Native;
        // The weights come from the file: the fresh module's initialisation must not move the process's random stream.
        using var rng = get_rng_state();
        var backbone = new SpatialBackbone(BackboneFactory.Create(spec), spec, "", CPU);
        set_rng_state(rng);
        try
        {
            var report = backbone.ImportSafetensors(path, naming.Value);
            // A classifier is fine to leave behind; anything else means the file is not the backbone the metadata names.
            var foreign = report.Unexpected.Where(n => !n.StartsWith("fc.", StringComparison.Ordinal)).ToList();
            if (foreign.Count > 0)
                throw new InvalidDataException($"{path}: tensors with no place in a {spec.Kind} backbone ({spec.Normalization} input): " +
                                               $"{string.Join(", ", foreign.Take(5))}{(foreign.Count > 5 ? ", ..." : "")}.");
            return backbone;
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }

    private static BackboneSpec SpecFrom(IReadOnlyDictionary<string, string> metadata, string path)
    {
        if (!metadata.TryGetValue("kind", out var kindText) || !Enum.TryParse<BackboneKind>(kindText, out var kind))
            throw new InvalidDataException($"{path}: the metadata names no backbone kind ({string.Join(", ", Enum.GetNames<BackboneKind>())}); pass the BackboneSpec.");
        int Number(string key, int fallback)
        {
            if (!metadata.TryGetValue(key, out var value)) return fallback;
            return int.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int number) && number > 0
                ? number : throw new InvalidDataException($"{path}: metadata '{key}' is '{value}', not a positive integer.");
        }
        var defaults = new BackboneSpec(kind);
        var normalization = InputNormalization.ImageNet;
        if (metadata.TryGetValue("normalization", out var text) && (!Enum.TryParse(text, out normalization) || !Enum.IsDefined(normalization)))
            throw new InvalidDataException($"{path}: metadata 'normalization' is '{text}', not one of {string.Join(", ", Enum.GetNames<InputNormalization>())}.");
        return new BackboneSpec(kind, Number("width", defaults.Width), Number("patch_size", defaults.PatchSize), Number("image_size", defaults.ImageSize), normalization);
    }

    /// <summary>
    /// Writes the weights as safetensors (with the architecture in the metadata), for PyTorch
    /// (<c>safetensors.torch.load_file</c>) or any other safetensors reader: with this library's names, or with
    /// <see cref="WeightNaming.TorchvisionResNet"/> a ResNet-18/50's under TorchVision's names, so that
    /// <c>torchvision.models.resnet18().load_state_dict(...)</c> takes every tensor but the classifier's.
    /// </summary>
    /// <exception cref="ArgumentException">TorchVision names were asked for a backbone that is not a ResNet.</exception>
    public void ExportSafetensors(string path, WeightNaming naming = WeightNaming.Native)
    {
        lock (forwardLock)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            var state = Module.state_dict();
            if (naming == WeightNaming.TorchvisionResNet)
            {
                if (!BackboneRegistry.For(Kind).TorchvisionNames)
                    throw new ArgumentException($"TorchVision names exist for ResNet18 and ResNet50 only, not for {Kind}" +
                        (Kind == BackboneKind.CntkResNet18 ? " (its last stage has a third block and its input a mean image, which TorchVision's resnet18 lacks)" : "") +
                        "; export with WeightNaming.Native.", nameof(naming));
                state = new Dictionary<string, Tensor>(state
                    .Select(t => (Name: TorchvisionResNetKeys.ToTorchvision(t.Key, Kind), t.Value))
                    .Where(t => t.Name is not null).Select(t => KeyValuePair.Create(t.Name!, t.Value)));
            }
            var invariant = System.Globalization.CultureInfo.InvariantCulture;
            SafetensorsFile.Write(path, state, new Dictionary<string, string>
            {
                ["format"] = "pt", ["library"] = "SpatialPrediction.ML", ["kind"] = Kind.ToString(),
                ["image_size"] = ImageSize.ToString(invariant), ["width"] = Spec.Width.ToString(invariant),
                ["patch_size"] = Spec.PatchSize.ToString(invariant), ["naming"] = naming.ToString(),
                ["normalization"] = Spec.Normalization.ToString(),
            });
        }
    }

    /// <summary>
    /// Writes the backbone as an ONNX model (opset 17) with its weights and input normalisation, for ONNX Runtime, ML.NET's
    /// <c>ApplyOnnxModel</c> or any other ONNX engine: input <paramref name="inputName"/> [batch, 3, S, S] float RGB pixels
    /// on the 0–255 scale (ML.NET's <c>ExtractPixels</c> output; S = <see cref="ImageSize"/>), output
    /// <paramref name="outputName"/> [batch, <see cref="FeatureDimension"/>]. Written to a temporary file and renamed.
    /// </summary>
    public void ExportOnnx(string path, string inputName = "Pixels", string outputName = "Features")
    {
        byte[] model;
        lock (forwardLock)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            using var scope = NewDisposeScope();
            model = Interop.Onnx.OnnxBackboneExport.Export(Module, ImageSize, inputName, outputName,
                $"{Kind} backbone exported by SpatialPrediction.ML; trained with: {TrainedWith}");
        }
        string temporary = path + ".tmp";
        File.WriteAllBytes(temporary, model);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>
    /// Sets the weights from a safetensors file (e.g. a PyTorch <c>state_dict</c> saved with
    /// <c>safetensors.torch.save_file</c>). Every name and shape is checked before anything is changed: a missing
    /// tensor (unless <paramref name="allowMissing"/>) or a shape mismatch fails naming the tensors; tensors with no
    /// place in the backbone (a classifier) are ignored and listed in the report.
    /// </summary>
    public WeightImportReport ImportSafetensors(string path, WeightNaming naming = WeightNaming.Native, bool allowMissing = false)
    {
        var file = SafetensorsFile.Read(path);
        try
        {
            return ImportWeights(file, naming, allowMissing, path);
        }
        finally
        {
            foreach (var tensor in file.Values) tensor.Dispose();
        }
    }

    /// <summary>
    /// Copies named tensors into the backbone after checking every name and shape (see <see cref="ImportSafetensors"/>);
    /// <paramref name="source"/> names where they came from in errors. The caller keeps ownership of the tensors.
    /// </summary>
    internal WeightImportReport ImportWeights(IReadOnlyDictionary<string, Tensor> tensors, WeightNaming naming, bool allowMissing, string source)
    {
        lock (forwardLock)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            var report = WeightImport.Into(Module, Kind, tensors, naming, allowMissing, source);
            WeightsReplaced();
            return report;
        }
    }
}
