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
/// The file format is <see cref="BackboneFile"/>'s; the other formats (ImageNet import, safetensors, ONNX export) are in
/// SpatialBackboneFormats.cs. Featurisation (inference copies, layout, engine) is a <see cref="FeaturizationSession"/>'s:
/// each featuriser owns one, and the backbone keeps one for <see cref="Featurize(MLImage)"/>.
/// </remarks>
public sealed partial class SpatialBackbone : IDisposable
{
    private readonly object forwardLock = new();
    private volatile bool disposed;
    // The sessions featurising with these weights, disposed with them; weak, so a dropped featuriser's session can go.
    private readonly List<WeakReference<FeaturizationSession>> sessions = new();
    private FeaturizationSession? ownSession;

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

    /// <summary>Held while <see cref="Module"/> is read or run; featurisation sessions take it after their own.</summary>
    internal object ForwardLock => forwardLock;
    internal bool IsDisposed => disposed;
    /// <summary>Counts weight replacements (imports), so sessions drop what they made from older weights.</summary>
    internal int WeightsVersion { get; private set; }

    /// <summary>The backbone's own featurisation session (for <see cref="Featurize(MLImage)"/>, evaluations and tests).</summary>
    internal FeaturizationSession Featurization
    {
        get
        {
            lock (forwardLock)
            {
                ObjectDisposedException.ThrowIf(disposed, this);
                if (ownSession is not null) return ownSession;
            }
            var made = new FeaturizationSession(this);
            lock (forwardLock) return ownSession ??= made;
        }
    }

    /// <summary>Registers a session to be disposed with this backbone.</summary>
    internal void Attach(FeaturizationSession session)
    {
        lock (forwardLock)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            sessions.RemoveAll(s => !s.TryGetTarget(out _));
            sessions.Add(new WeakReference<FeaturizationSession>(session));
        }
    }

    /// <summary>Features of one image (float32, libtorch).</summary>
    public float[] Featurize(MLImage image) => Featurization.Featurize(image, ComputePrecision.Float32, FeaturizationEngine.LibTorch, 1);

    /// <summary>Records that the weights were replaced (call under <see cref="ForwardLock"/>).</summary>
    internal void WeightsReplaced() => WeightsVersion++;

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
        List<FeaturizationSession> open;
        lock (forwardLock)
        {
            if (disposed) return;
            disposed = true;
            open = sessions.Select(s => s.TryGetTarget(out var session) ? session : null).OfType<FeaturizationSession>().ToList();
            sessions.Clear();
            Module.Dispose();
        }
        // Outside the lock: a session takes its own lock before the backbone's, never after.
        foreach (var session in open) session.Dispose();
    }

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
}
