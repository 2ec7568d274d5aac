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
/// <remarks>
/// The file format is <see cref="BackboneFile"/>'s. Featurisation (inference copies, layout, engine) is in
/// SpatialBackboneFeaturization.cs, the other formats (ImageNet import, safetensors, ONNX export) in SpatialBackboneFormats.cs.
/// </remarks>
public sealed partial class SpatialBackbone : IDisposable
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

    /// <summary>A freshly initialised (untrained) backbone, e.g. as a baseline.</summary>
    public static SpatialBackbone CreateUntrained(BackboneSpec spec, int seed = 1)
    {
        manual_seed(seed);
        return new SpatialBackbone(BackboneFactory.Create(spec), spec, "", CPU);
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
