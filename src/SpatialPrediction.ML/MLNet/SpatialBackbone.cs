using Microsoft.ML.Data;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Interop;
using SpatialPrediction.ML.MLNet;
using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML;

/// <summary>
/// A frozen, trained backbone with everything needed to featurise with it: the architecture, the input size and
/// preprocessing it was trained with, and the weights. It saves to and loads from its own file (format below), and
/// is what a <see cref="SpatialFeaturizerTransformer"/> carries inside an ML.NET model zip.
/// </summary>
/// <remarks>The file format is <see cref="BackboneFile"/>'s; the folded copy featurisation runs is <see cref="FoldedInferenceCopy"/>'s.</remarks>
public sealed class SpatialBackbone : IDisposable
{
    private readonly object forwardLock = new();
    private bool disposed;

    internal SpatialBackbone(BackboneModule module, BackboneSpec spec, string trainedWith, Device device)
    {
        Module = module;
        Spec = spec;
        TrainedWith = trainedWith;
        Device = device;
        module.eval();
    }

    internal BackboneModule Module { get; }
    internal Device Device { get; }

    /// <summary>
    /// Whether featurisation runs on a frozen copy with batch norms folded into the convolutions (default): the same
    /// function up to float rounding, one pass over each activation instead of two. Off, it runs <see cref="Module"/>
    /// itself; the benchmarks and tests switch it off to measure the difference.
    /// </summary>
    internal bool FoldBatchNormForInference
    {
        get => foldBatchNorm;
        set => Reconfigure(() => foldBatchNorm = value);
    }

    private bool foldBatchNorm = true;

    // The modules featurisation runs, one per precision, made on first use and dropped when the weights or the
    // settings change; Module itself for float32 where nothing folds.
    private readonly Dictionary<FeaturizationPrecision, BackboneModule> inferenceModules = new();

    /// <summary>
    /// The ResNets' convolution layout when featurising on the CPU; <see cref="ConvolutionLayout.Auto"/> (default) measures
    /// both on the first batch's shape, once per machine (<see cref="LayoutCalibration"/>).
    /// </summary>
    internal ConvolutionLayout InferenceLayout
    {
        get => inferenceLayout;
        set => Reconfigure(() => inferenceLayout = value);
    }

    private ConvolutionLayout inferenceLayout = ConvolutionLayout.Auto;

    /// <summary>The layout chosen for featurisation, once a batch has run (for the report and tests).</summary>
    internal LayoutCalibration.Choice? InferenceLayoutChoice { get; private set; }

    private void Reconfigure(Action change)
    {
        lock (forwardLock)
        {
            change();
            DropInferenceModules();
        }
    }

    /// <summary>
    /// The module featurisation runs in <paramref name="precision"/> for batches of <paramref name="batch"/> (call under
    /// <see cref="forwardLock"/>; tests call it directly): the folded copy where the architecture folds, a bfloat16 cast
    /// of it (or of a plain copy) for bfloat16 — never a cast of the trained module itself.
    /// </summary>
    internal BackboneModule InferenceModule(int batch = 1, FeaturizationPrecision precision = FeaturizationPrecision.Float32)
    {
        if (inferenceModules.TryGetValue(precision, out var made)) return made;
        InferenceLayoutChoice ??= LayoutCalibration.ResolveInference(inferenceLayout, Spec, batch, ImageSize, Device);
        var layout = InferenceLayoutChoice.Layout;
        var module = FoldBatchNormForInference ? FoldedInferenceCopy.Make(Module, Spec, Device, layout) : null;
        if (precision == FeaturizationPrecision.BFloat16)
        {
            module ??= Objectives.MomentumTeacher.Copy(Module, () => BackboneFactory.Create(Spec));
            module.Layout = layout;
            module.to(Device).to(ScalarType.BFloat16).eval();
            foreach (var (_, tensor) in module.state_dict()) tensor.DetachFromDisposeScope();
        }
        else if (module is null)
        {
            Module.Layout = layout;
            module = Module;
        }
        return inferenceModules[precision] = module;
    }

    /// <summary>
    /// Drops the inference copies (after a change of layout or folding); with <paramref name="weightsChanged"/> also the
    /// ONNX Runtime engine built from the weights and the engine choices measured with it.
    /// </summary>
    private void DropInferenceModules(bool weightsChanged = false)
    {
        foreach (var module in inferenceModules.Values)
            if (!ReferenceEquals(module, Module)) module.Dispose();
        inferenceModules.Clear();
        InferenceLayoutChoice = null;
        if (!weightsChanged) return;
        onnxRuntime?.Dispose();
        onnxRuntime = null;
        engineChoices.Clear();
    }

    /// <summary>Architecture and input size.</summary>
    public BackboneSpec Spec { get; }
    /// <summary>Architecture.</summary>
    public BackboneKind Kind => Spec.Kind;
    /// <summary>Side in pixels images are resized to (bilinear, antialiased) before the backbone.</summary>
    public int ImageSize => Spec.ImageSize;
    /// <summary>Length of the pooled embedding.</summary>
    public int FeatureDimension => Module.FeatureDimension;
    /// <summary>The training settings this backbone came from (free text; empty for untrained backbones).</summary>
    public string TrainedWith { get; internal set; }

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

    /// <summary>A freshly initialised (untrained) backbone, e.g. as a baseline.</summary>
    public static SpatialBackbone CreateUntrained(BackboneSpec spec, int seed = 1)
    {
        manual_seed(seed);
        return new SpatialBackbone(BackboneFactory.Create(spec), spec, "", CPU);
    }

    /// <summary>
    /// Pooled features [B, D] of a float image batch [B, 3, S, S] in [0, 1], computed in <paramref name="precision"/> by
    /// <paramref name="engine"/> (ONNX Runtime only for float32 on the CPU), on the CPU. <see cref="FeaturizationEngine.Auto"/>
    /// decides once per <paramref name="calibrationBatch"/> (a featuriser's batch size, so its last, shorter batch
    /// follows the same choice; 0: this batch's size).
    /// </summary>
    internal float[] FeaturizeBatch(Tensor images, FeaturizationPrecision precision = FeaturizationPrecision.Float32,
        FeaturizationEngine engine = FeaturizationEngine.LibTorch, int calibrationBatch = 0)
    {
        lock (forwardLock)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            int batch = calibrationBatch > 0 ? calibrationBatch : (int)images.shape[0];
            if (precision == FeaturizationPrecision.Float32 && OnnxRuntimeFor(batch, engine) is { } onnxRuntime)
                return onnxRuntime.Featurize(images);
            return LibTorchFeatures(images, precision);
        }
    }

    /// <summary>
    /// Pooled features of planar RGB bytes (<paramref name="count"/> images of 3·S·S), as <see cref="FeaturizeBatch"/>
    /// computes them; the ONNX Runtime engine takes the bytes without a libtorch operation in between.
    /// </summary>
    internal float[] FeaturizeBytes(byte[] planes, int count, FeaturizationPrecision precision, FeaturizationEngine engine, int calibrationBatch)
    {
        lock (forwardLock)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (precision == FeaturizationPrecision.Float32 && OnnxRuntimeFor(calibrationBatch > 0 ? calibrationBatch : count, engine) is { } onnxRuntime)
                return onnxRuntime.Featurize(planes, count);
            return LibTorchBytes(planes, count, precision);
        }
    }

    private float[] LibTorchBytes(byte[] planes, int count) => LibTorchBytes(planes, count, FeaturizationPrecision.Float32);

    private float[] LibTorchBytes(byte[] planes, int count, FeaturizationPrecision precision)
    {
        using var scope = NewDisposeScope();
        return LibTorchFeatures(ImageColumn.UnitBatch(planes, count, ImageSize), precision);
    }

    private float[] LibTorchFeatures(Tensor images, FeaturizationPrecision precision)
    {
        var module = InferenceModule((int)images.shape[0], precision);
        using var scope = NewDisposeScope();
        using var noGrad = inference_mode();
        return module.forward(images.to(Device).to(TypeOf(precision))).to(ScalarType.Float32).to(CPU).data<float>().ToArray();
    }

    private Interop.Onnx.OnnxRuntimeFeaturizer? onnxRuntime;

    private readonly Dictionary<int, FeaturizationEngineCalibration.Choice> engineChoices = new();

    /// <summary>How <see cref="FeaturizationEngine.Auto"/> decided for this backbone, per batch size (for the report and tests).</summary>
    internal IReadOnlyDictionary<int, FeaturizationEngineCalibration.Choice> EngineChoices => engineChoices;

    /// <summary>
    /// Whether <paramref name="e"/> says ONNX Runtime's native library is absent: the package depends on ONNX Runtime's
    /// managed part only (as ML.NET's ApplyOnnxModel does), so an application without Microsoft.ML.OnnxRuntime has none.
    /// </summary>
    private static bool IsMissingNativeOnnxRuntime(Exception e)
        => e is TypeInitializationException or DllNotFoundException or EntryPointNotFoundException
           || e.InnerException is DllNotFoundException or EntryPointNotFoundException;

    /// <summary>The ONNX Runtime engine when <paramref name="engine"/> asks for it or Auto chose it; null for libtorch.</summary>
    private Interop.Onnx.OnnxRuntimeFeaturizer? OnnxRuntimeFor(int batch, FeaturizationEngine engine)
    {
        if (engine == FeaturizationEngine.LibTorch || Device.type != DeviceType.CPU) return null;
        if (engine == FeaturizationEngine.OnnxRuntime)
        {
            try
            {
                return onnxRuntime ??= new Interop.Onnx.OnnxRuntimeFeaturizer(Module, ImageSize);
            }
            catch (Exception e) when (IsMissingNativeOnnxRuntime(e))
            {
                throw new InvalidOperationException(
                    "FeaturizationEngine.OnnxRuntime needs ONNX Runtime's native library, which this application does not have: add the " +
                    "Microsoft.ML.OnnxRuntime package (CPU) or Microsoft.ML.OnnxRuntime.Gpu, or use FeaturizationEngine.Auto or LibTorch.", e);
            }
        }
        if (!engineChoices.TryGetValue(batch, out var choice))
        {
            Interop.Onnx.OnnxRuntimeFeaturizer candidate;
            try
            {
                candidate = onnxRuntime ?? new Interop.Onnx.OnnxRuntimeFeaturizer(Module, ImageSize);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or NotSupportedException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException
                                          || IsMissingNativeOnnxRuntime(e))
            {
                engineChoices[batch] = new(FeaturizationEngine.LibTorch, Array.Empty<FeaturizationEngineCalibration.Timing>(), double.NaN, false, IsMissingNativeOnnxRuntime(e)
                    ? "ONNX Runtime's native library is not in this application (add the Microsoft.ML.OnnxRuntime package to use it)"
                    : $"no ONNX Runtime engine: {e.Message}");
                return null;
            }
            try
            {
                choice = FeaturizationEngineCalibration.Choose(LibTorchBytes, candidate.Featurize, Spec, batch, ImageSize);
            }
            catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or InvalidOperationException)
            {
                choice = new(FeaturizationEngine.LibTorch, Array.Empty<FeaturizationEngineCalibration.Timing>(), double.NaN, false, $"ONNX Runtime failed on this backbone: {e.Message}");
            }
            engineChoices[batch] = choice;
            if (choice.Engine == FeaturizationEngine.OnnxRuntime) onnxRuntime = candidate;
            else if (!ReferenceEquals(candidate, onnxRuntime)) candidate.Dispose();
        }
        return choice.Engine == FeaturizationEngine.OnnxRuntime ? onnxRuntime : null;
    }

    /// <summary>Pooled features [B·D] and feature maps [B·C·h·w] of a float image batch in [0, 1], on the CPU.</summary>
    internal (float[] Pooled, float[] Map) FeaturizeBatchWithMap(Tensor images, FeaturizationPrecision precision = FeaturizationPrecision.Float32)
    {
        lock (forwardLock)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            var module = InferenceModule((int)images.shape[0], precision);
            using var scope = NewDisposeScope();
            using var noGrad = inference_mode();
            var (pooled, map) = module.PooledAndMap(images.to(Device).to(TypeOf(precision)));
            return (pooled.to(ScalarType.Float32).to(CPU).data<float>().ToArray(), map.to(ScalarType.Float32).contiguous().to(CPU).data<float>().ToArray());
        }
    }

    private static ScalarType TypeOf(FeaturizationPrecision precision)
        => precision == FeaturizationPrecision.BFloat16 ? ScalarType.BFloat16 : ScalarType.Float32;

    /// <summary>Shape (channels, height, width) of the spatial feature map at <see cref="ImageSize"/>.</summary>
    public (int Channels, int Height, int Width) FeatureMapShape
    {
        get
        {
            if (featureMapShape is { } known) return known;
            lock (forwardLock)
            {
                ObjectDisposedException.ThrowIf(disposed, this);
                using var scope = NewDisposeScope();
                using var noGrad = inference_mode();
                var shape = Module.FeatureMap(zeros(1, 3, ImageSize, ImageSize, device: Device)).shape;
                featureMapShape = ((int)shape[1], (int)shape[2], (int)shape[3]);
                return featureMapShape.Value;
            }
        }
    }

    private (int, int, int)? featureMapShape;

    /// <summary>Features of one image (float32, libtorch).</summary>
    public float[] Featurize(MLImage image) => Featurize(image, FeaturizationPrecision.Float32, FeaturizationEngine.LibTorch, 1);

    /// <summary>Features of one image as a featuriser with these settings computes them.</summary>
    internal float[] Featurize(MLImage image, FeaturizationPrecision precision, FeaturizationEngine engine, int calibrationBatch)
    {
        using var scope = NewDisposeScope();
        return FeaturizeBatch(ImageColumn.ToTensor(image, ImageSize, CPU, "(image)", -1, nameof(SpatialBackbone)), precision, engine, calibrationBatch);
    }

    /// <summary>Saves to a file (written to a temporary name, then renamed).</summary>
    public void Save(string path)
    {
        string temporary = path + ".tmp";
        using (var file = File.Create(temporary)) Save(file);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Saves to a stream (<see cref="BackboneFile"/> format).</summary>
    public void Save(Stream stream)
    {
        lock (forwardLock)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            BackboneFile.Write(stream, Module, Spec, TrainedWith);
        }
    }

    /// <summary>Loads a backbone file onto the CPU.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid backbone file; the message says what is wrong.</exception>
    public static SpatialBackbone Load(string path)
    {
        using var file = File.OpenRead(path);
        try
        {
            return Load(file);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Loads a backbone from a stream onto <paramref name="device"/> (CPU by default).</summary>
    public static SpatialBackbone Load(Stream stream, Device? device = null)
    {
        var target = device ?? CPU;
        var (module, spec, trainedWith) = BackboneFile.Read(stream, target);
        return new SpatialBackbone(module, spec, trainedWith, target);
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
                if (Kind is not (BackboneKind.ResNet18 or BackboneKind.ResNet50))
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
            DropInferenceModules(weightsChanged: true);
            return report;
        }
    }

    /// <summary>A copy of this backbone (weights, statistics, description) on <paramref name="device"/>.</summary>
    internal SpatialBackbone CopyTo(Device device)
    {
        using var buffer = new MemoryStream();
        Save(buffer);
        buffer.Position = 0;
        return Load(buffer, device);
    }

    /// <summary>Releases the native weights.</summary>
    public void Dispose()
    {
        lock (forwardLock)
        {
            if (disposed) return;
            disposed = true;
            DropInferenceModules(weightsChanged: true);
            Module.Dispose();
        }
    }
}
