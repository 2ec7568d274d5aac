using SpatialPrediction.ML.Machine;
using Microsoft.ML.Data;
using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Interop;
using SpatialPrediction.ML.MLNet;
using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML;

// Featurisation with a SpatialBackbone: the inference copies (folded, per precision), the layout and engine each batch
// size runs with, and the lock that serialises them. The artifact itself is in SpatialBackbone.cs.
public sealed partial class SpatialBackbone
{
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
}
