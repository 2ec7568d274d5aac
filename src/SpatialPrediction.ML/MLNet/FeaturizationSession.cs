using Microsoft.ML.Data;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Machine;
using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.MLNet;

/// <summary>
/// Featurisation with one <see cref="SpatialBackbone"/>: the inference copies it runs (batch norms folded, one per
/// precision), the convolution layout and the engine chosen for each batch size, and the lock that serialises them.
/// Each featuriser owns one; the backbone keeps one for its own <see cref="SpatialBackbone.Featurize(MLImage)"/>. The
/// backbone stays the artifact (architecture, weights, files): a session reads its module only under the backbone's
/// lock, follows its weights when they are replaced (an import), and is disposed with it.
/// </summary>
internal sealed class FeaturizationSession : IDisposable
{
    private readonly SpatialBackbone backbone;
    private readonly object gate = new();
    private int weightsVersion;
    private bool disposed;

    public FeaturizationSession(SpatialBackbone backbone)
    {
        this.backbone = backbone;
        weightsVersion = backbone.WeightsVersion;
        backbone.Attach(this);
    }

    private BackboneModule Module => backbone.Module;
    private BackboneSpec Spec => backbone.Spec;
    private Device Device => backbone.Device;
    private int ImageSize => backbone.ImageSize;

    /// <summary>Drops what was made from older weights, and refuses to run on a disposed backbone (call under the gate).</summary>
    private void FollowWeights()
    {
        ObjectDisposedException.ThrowIf(disposed || backbone.IsDisposed, backbone);
        int current = backbone.WeightsVersion;
        if (current == weightsVersion) return;
        DropInferenceModules(weightsChanged: true);
        weightsVersion = current;
    }

    /// <summary>
    /// Runs <paramref name="forward"/> on <paramref name="module"/>: on a copy of the session's own as it is, on the
    /// backbone's module under the backbone's lock and in this session's layout (another session may use another).
    /// </summary>
    private T ForwardOf<T>(BackboneModule module, Func<T> forward)
    {
        if (!ReferenceEquals(module, Module)) return forward();
        return WithModule(() =>
        {
            Module.Layout = InferenceLayoutChoice!.Layout;
            return forward();
        });
    }

    /// <summary>An ONNX Runtime engine of the backbone's current weights.</summary>
    private Interop.Onnx.OnnxRuntimeFeaturizer OnnxRuntimeFromWeights() => WithModule(() => new Interop.Onnx.OnnxRuntimeFeaturizer(Module, ImageSize));

    /// <summary>Runs <paramref name="read"/> under the backbone's lock, on a backbone not yet disposed.</summary>
    private T WithModule<T>(Func<T> read)
    {
        lock (backbone.ForwardLock)
        {
            ObjectDisposedException.ThrowIf(backbone.IsDisposed, backbone);
            return read();
        }
    }

    /// <summary>Releases the copies and the ONNX Runtime engine; the backbone disposes its sessions with itself.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            DropInferenceModules(weightsChanged: true);
        }
    }

    /// <summary>
    /// Whether featurisation runs on a frozen copy with batch norms folded into the convolutions (default): the same
    /// function up to float rounding, one pass over each activation instead of two. Off, it runs the backbone's module
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
    private readonly Dictionary<ComputePrecision, BackboneModule> inferenceModules = new();

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
        lock (gate)
        {
            change();
            DropInferenceModules();
        }
    }

    /// <summary>
    /// The module featurisation runs in <paramref name="precision"/> for batches of <paramref name="batch"/> (takes the
    /// session's lock; tests call it directly): the folded copy where the architecture folds, a bfloat16 cast
    /// of it (or of a plain copy) for bfloat16 — never a cast of the trained module itself.
    /// </summary>
    internal BackboneModule InferenceModule(int batch = 1, ComputePrecision precision = ComputePrecision.Float32)
    {
        lock (gate)
        {
            FollowWeights();
            if (inferenceModules.TryGetValue(precision, out var made)) return made;
            InferenceLayoutChoice ??= LayoutCalibration.ResolveInference(inferenceLayout, Spec, batch, ImageSize, Device);
            var layout = InferenceLayoutChoice.Layout;
            var module = WithModule(() =>
            {
                var copy = FoldBatchNormForInference ? FoldedInferenceCopy.Make(Module, Spec, Device, layout) : null;
                if (precision == ComputePrecision.BFloat16) copy ??= Objectives.MomentumTeacher.Copy(Module, () => BackboneFactory.Create(Spec));
                return copy ?? Module; // float32 where nothing folds: run under the backbone's lock, in this session's layout (ForwardOf)
            });
            if (precision == ComputePrecision.BFloat16)
            {
                module.Layout = layout;
                module.to(Device).to(ScalarType.BFloat16).eval();
                foreach (var (_, tensor) in module.state_dict()) tensor.DetachFromDisposeScope();
            }
            return inferenceModules[precision] = module;
        }
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

    /// <summary>
    /// Pooled features [B, D] of a float image batch [B, 3, S, S] in [0, 1], computed in <paramref name="precision"/> by
    /// <paramref name="engine"/> (ONNX Runtime only for float32 on the CPU), on the CPU. <see cref="FeaturizationEngine.Auto"/>
    /// decides once per <paramref name="calibrationBatch"/> (a featuriser's batch size, so its last, shorter batch
    /// follows the same choice; 0: this batch's size).
    /// </summary>
    internal float[] FeaturizeBatch(Tensor images, ComputePrecision precision = ComputePrecision.Float32,
        FeaturizationEngine engine = FeaturizationEngine.LibTorch, int calibrationBatch = 0)
    {
        lock (gate)
        {
            FollowWeights();
            int batch = calibrationBatch > 0 ? calibrationBatch : (int)images.shape[0];
            if (precision == ComputePrecision.Float32 && OnnxRuntimeFor(batch, engine) is { } onnxRuntime)
                return onnxRuntime.Featurize(images);
            return LibTorchFeatures(images, precision);
        }
    }

    /// <summary>
    /// Pooled features of planar RGB bytes (<paramref name="count"/> images of 3·S·S), as <see cref="FeaturizeBatch"/>
    /// computes them; the ONNX Runtime engine takes the bytes without a libtorch operation in between.
    /// </summary>
    internal float[] FeaturizeBytes(byte[] planes, int count, ComputePrecision precision, FeaturizationEngine engine, int calibrationBatch)
    {
        lock (gate)
        {
            FollowWeights();
            if (precision == ComputePrecision.Float32 && OnnxRuntimeFor(calibrationBatch > 0 ? calibrationBatch : count, engine) is { } onnxRuntime)
                return onnxRuntime.Featurize(planes, count);
            return LibTorchBytes(planes, count, precision);
        }
    }

    private float[] LibTorchBytes(byte[] planes, int count) => LibTorchBytes(planes, count, ComputePrecision.Float32);

    private float[] LibTorchBytes(byte[] planes, int count, ComputePrecision precision)
    {
        using var scope = NewDisposeScope();
        return LibTorchFeatures(ImageColumn.UnitBatch(planes, count, ImageSize), precision);
    }

    private float[] LibTorchFeatures(Tensor images, ComputePrecision precision)
    {
        var module = InferenceModule((int)images.shape[0], precision);
        using var scope = NewDisposeScope();
        using var noGrad = inference_mode();
        var input = images.to(Device).to(TypeOf(precision));
        return ForwardOf(module, () => module.forward(input)).to(ScalarType.Float32).to(CPU).data<float>().ToArray();
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
                return onnxRuntime ??= OnnxRuntimeFromWeights();
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
                candidate = onnxRuntime ?? OnnxRuntimeFromWeights();
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
    internal (float[] Pooled, float[] Map) FeaturizeBatchWithMap(Tensor images, ComputePrecision precision = ComputePrecision.Float32)
    {
        lock (gate)
        {
            FollowWeights();
            var module = InferenceModule((int)images.shape[0], precision);
            using var scope = NewDisposeScope();
            using var noGrad = inference_mode();
            var input = images.to(Device).to(TypeOf(precision));
            var (pooled, map) = ForwardOf(module, () => module.PooledAndMap(input));
            return (pooled.to(ScalarType.Float32).to(CPU).data<float>().ToArray(), map.to(ScalarType.Float32).contiguous().to(CPU).data<float>().ToArray());
        }
    }

    private static ScalarType TypeOf(ComputePrecision precision)
        => precision == ComputePrecision.BFloat16 ? ScalarType.BFloat16 : ScalarType.Float32;

    /// <summary>Features of one image as a featuriser with these settings computes them.</summary>
    internal float[] Featurize(MLImage image, ComputePrecision precision, FeaturizationEngine engine, int calibrationBatch)
    {
        using var scope = NewDisposeScope();
        return FeaturizeBatch(ImageColumn.ToTensor(image, ImageSize, CPU, "(image)", -1, nameof(SpatialBackbone)), precision, engine, calibrationBatch);
    }
}
