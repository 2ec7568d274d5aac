using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using SpatialPrediction.ML.Backbones;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Interop.Onnx;

/// <summary>
/// A backbone's pooled features computed by ONNX Runtime from the backbone's own ONNX export (made in memory, not
/// written anywhere): the export takes pixels on the 0–255 scale and normalises inside the graph, as ML.NET's
/// <c>ApplyOnnxModel</c> would feed it.
/// </summary>
internal sealed class OnnxRuntimeFeaturizer : IDisposable
{
    private const string InputName = "Pixels", OutputName = "Features";
    private readonly InferenceSession session;
    private readonly SessionOptions options;
    private readonly int imageSize;

    /// <summary>Exports <paramref name="module"/> (eval mode) and opens a session on it.</summary>
    public OnnxRuntimeFeaturizer(BackboneModule module, int imageSize)
    {
        this.imageSize = imageSize;
        byte[] model;
        using (NewDisposeScope()) model = OnnxBackboneExport.Export(module, imageSize, InputName, OutputName, "SpatialPrediction.ML featurisation engine");
        options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, InterOpNumThreads = 1 };
        session = new InferenceSession(model, options);
    }

    /// <summary>Pooled features [B·D] of images [B, 3, S, S] with values in [0, 1].</summary>
    public float[] Featurize(Tensor images)
    {
        long batch = images.shape[0];
        float[] pixels;
        using (NewDisposeScope()) pixels = images.to(CPU).to_type(ScalarType.Float32).mul(Backbones.ProcessScalars.ByteMax).contiguous().data<float>().ToArray();
        return Run(pixels, (int)batch);
    }

    /// <summary>
    /// Pooled features [B·D] of planar RGB bytes (B·3·S·S), converted here rather than by libtorch: a libtorch operation
    /// just before would leave its worker threads spinning on the cores ONNX Runtime's threads need.
    /// </summary>
    public float[] Featurize(ReadOnlySpan<byte> planes, int batch)
    {
        var pixels = new float[planes.Length];
        for (int i = 0; i < planes.Length; i++) pixels[i] = planes[i];
        return Run(pixels, batch);
    }

    private float[] Run(float[] pixels, int batch)
    {
        var input = new DenseTensor(pixels, new[] { batch, 3, imageSize, imageSize });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(InputName, input) });
        return results[0].AsTensor<float>().ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        session.Dispose();
        options.Dispose();
    }
}
