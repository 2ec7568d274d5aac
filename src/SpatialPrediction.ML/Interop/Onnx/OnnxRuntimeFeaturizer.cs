using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using SpatialPrediction.ML.Backbones;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Interop.Onnx;

/// <summary>
/// A backbone's pooled features computed by ONNX Runtime from the backbone's own ONNX export (made in memory, not
/// written anywhere). Featurisers hand it planar RGB bytes, which go to a graph whose input is those bytes: ONNX Runtime
/// reads the caller's array in place (no float copy, four times less input to read) and casts inside the graph. Images
/// given as float tensors, which bytes cannot hold exactly, go to a float-input export of the same network, made the
/// first time one is needed.
/// </summary>
internal sealed class OnnxRuntimeFeaturizer : IDisposable
{
    private const string InputName = "Pixels", OutputName = "Features";
    private static readonly string[] InputNames = { InputName }, OutputNames = { OutputName };
    private readonly BackboneModule module;
    private readonly int imageSize;
    private readonly SessionOptions options;
    private readonly RunOptions runOptions = new();
    private readonly InferenceSession byteSession;
    private InferenceSession? floatSession;

    /// <summary>Exports <paramref name="module"/> (eval mode) and opens a session on it.</summary>
    public OnnxRuntimeFeaturizer(BackboneModule module, int imageSize)
    {
        this.module = module;
        this.imageSize = imageSize;
        options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, InterOpNumThreads = 1 };
        byteSession = Open(byteInput: true);
    }

    private InferenceSession Open(bool byteInput)
    {
        byte[] model;
        using (NewDisposeScope()) model = OnnxBackboneExport.Export(module, imageSize, InputName, OutputName, "SpatialPrediction.ML featurisation engine", byteInput);
        return new InferenceSession(model, options);
    }

    /// <summary>Pooled features [B·D] of images [B, 3, S, S] with values in [0, 1].</summary>
    public float[] Featurize(Tensor images)
    {
        long batch = images.shape[0];
        float[] pixels;
        using (NewDisposeScope()) pixels = images.to(CPU).to_type(ScalarType.Float32).mul(Backbones.ProcessScalars.ByteMax).contiguous().data<float>().ToArray();
        floatSession ??= Open(byteInput: false);
        var input = new DenseTensor(pixels, new[] { (int)batch, 3, imageSize, imageSize });
        using var results = floatSession.Run(new[] { NamedOnnxValue.CreateFromTensor(InputName, input) });
        return results[0].AsTensor<float>().ToArray();
    }

    /// <summary>
    /// Pooled features [B·D] of planar RGB bytes (the first <paramref name="batch"/>·3·S·S of <paramref name="planes"/>),
    /// read in place; no libtorch operation runs, whose spinning worker threads would slow ONNX Runtime's down.
    /// </summary>
    public float[] Featurize(byte[] planes, int batch)
    {
        long length = (long)batch * 3 * imageSize * imageSize;
        if (planes.Length < length) throw new ArgumentException($"Expected at least {length} bytes for {batch} images; got {planes.Length}.", nameof(planes));
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, planes.AsMemory(0, (int)length), new long[] { batch, 3, imageSize, imageSize });
        using var results = byteSession.Run(runOptions, InputNames, new[] { input }, OutputNames);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        byteSession.Dispose();
        floatSession?.Dispose();
        runOptions.Dispose();
        options.Dispose();
    }
}
