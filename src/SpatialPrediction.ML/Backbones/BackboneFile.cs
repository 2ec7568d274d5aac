using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Backbones;

/// <summary>
/// The backbone file format (version 1), little-endian: magic "SPBKBN01"; int32 format version; int32 length and UTF-8
/// JSON header (<see cref="BackboneHeader"/>: kind, width, patch size, image size, feature dimension, preprocessing,
/// the options it was trained with); int64 length and SHA-256 (32 bytes) of the weights; the weights as TorchSharp's
/// <c>Module.save</c> writes them (tensor names, shapes and raw data; no executable content). Reading checks the magic,
/// version, header values and checksum before it allocates any tensor.
/// </summary>
internal static class BackboneFile
{
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("SPBKBN01");
    private const int FormatVersion = 1;

    public static void Write(Stream stream, BackboneModule module, BackboneSpec spec, string trainedWith)
    {
        using var weights = new MemoryStream();
        module.save(weights);
        byte[] weightBytes = weights.ToArray();
        var header = new BackboneHeader(spec.Kind.ToString(), spec.Width, spec.PatchSize, spec.ImageSize, module.FeatureDimension,
            spec.Normalization == InputNormalization.BgrMeanImage
                ? "rgb/255; resize bilinear antialias to ImageSize; bgr*255 minus the input_mean buffer (224x224, resized bilinearly)"
                : "rgb/255; resize bilinear antialias to ImageSize; normalize mean (0.485, 0.456, 0.406) std (0.229, 0.224, 0.225)",
            trainedWith, spec.Normalization.ToString());
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(header);
        writer.Write(json.Length);
        writer.Write(json);
        writer.Write((long)weightBytes.Length);
        writer.Write(SHA256.HashData(weightBytes));
        writer.Write(weightBytes);
    }

    /// <exception cref="InvalidDataException">Not a valid backbone file; the message says what is wrong.</exception>
    public static (BackboneModule Module, BackboneSpec Spec, string TrainedWith) Read(Stream stream, Device device)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
                throw new InvalidDataException("not a SpatialPrediction backbone file (bad magic).");
            int version = reader.ReadInt32();
            if (version != FormatVersion)
                throw new InvalidDataException($"backbone file format version {version}; this library reads version {FormatVersion}.");
            int headerLength = reader.ReadInt32();
            if (headerLength <= 0 || headerLength > 1 << 20) throw new InvalidDataException($"implausible header length {headerLength}.");
            var header = JsonSerializer.Deserialize<BackboneHeader>(reader.ReadBytes(headerLength))
                         ?? throw new InvalidDataException("empty header.");
            var spec = header.ToSpec();
            long weightLength = reader.ReadInt64();
            // Checked against what the stream holds before anything of that size is allocated.
            long available = stream.CanSeek ? stream.Length - stream.Position - 32 : Array.MaxLength;
            if (weightLength <= 0 || weightLength > Array.MaxLength) throw new InvalidDataException($"implausible weight size {weightLength} bytes.");
            if (weightLength > available) throw new InvalidDataException($"truncated: the header promises {weightLength} weight bytes, the file holds {Math.Max(available, 0)}.");
            byte[] checksum = reader.ReadBytes(32);
            byte[] weights = reader.ReadBytes((int)weightLength);
            if (weights.Length != weightLength) throw new InvalidDataException($"truncated: {weights.Length} of {weightLength} weight bytes present.");
            if (!SHA256.HashData(weights).AsSpan().SequenceEqual(checksum)) throw new InvalidDataException("weights checksum mismatch (the file is corrupted).");

            var module = BackboneFactory.Create(spec);
            try
            {
                if (module.FeatureDimension != header.FeatureDimension)
                    throw new InvalidDataException($"header says {header.FeatureDimension} features, the architecture gives {module.FeatureDimension}.");
                using (var weightStream = new MemoryStream(weights)) module.load(weightStream, strict: true);
                module.to(device);
                return (module, spec, header.TrainedWith ?? "");
            }
            catch
            {
                module.Dispose();
                throw;
            }
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException("truncated backbone file.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException("unreadable header: " + e.Message);
        }
    }

    /// <summary>The JSON header of a backbone file.</summary>
    internal sealed record BackboneHeader(string Kind, int Width, int PatchSize, int ImageSize, int FeatureDimension, string Preprocessing, string? TrainedWith,
        string? Normalization = null)
    {
        public BackboneSpec ToSpec()
        {
            if (!Enum.TryParse<BackboneKind>(Kind, out var kind) || !Enum.IsDefined(kind))
                throw new InvalidDataException($"unknown backbone kind '{Kind}'.");
            if (Width is < 1 or > 4096 || PatchSize is < 1 or > 1024 || ImageSize is < 8 or > 8192 || FeatureDimension is < 1 or > 1 << 16)
                throw new InvalidDataException($"implausible architecture values (width {Width}, patch {PatchSize}, image {ImageSize}, features {FeatureDimension}).");
            var normalization = InputNormalization.ImageNet; // files written before the field existed
            if (Normalization is not null && (!Enum.TryParse(Normalization, out normalization) || !Enum.IsDefined(normalization)))
                throw new InvalidDataException($"unknown input normalisation '{Normalization}'.");
            return new BackboneSpec(kind, Width, PatchSize, ImageSize, normalization);
        }
    }
}
