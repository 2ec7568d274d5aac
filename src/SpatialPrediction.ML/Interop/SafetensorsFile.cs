using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Interop;

/// <summary>
/// Reads and writes the safetensors format (an 8-byte little-endian header length, a JSON header mapping each tensor
/// name to dtype, shape and byte range, then the raw little-endian data). Data only: nothing in a file can run code,
/// and every header value is checked against the file before a tensor is allocated.
/// </summary>
internal static class SafetensorsFile
{
    private const long MaxHeaderBytes = 100L << 20;

    private static readonly Dictionary<string, (ScalarType Type, int Size)> DTypes = new()
    {
        ["F32"] = (ScalarType.Float32, 4), ["F64"] = (ScalarType.Float64, 8), ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2), ["I64"] = (ScalarType.Int64, 8), ["I32"] = (ScalarType.Int32, 4),
        ["U8"] = (ScalarType.Byte, 1),
    };

    /// <summary>Writes named tensors (moved to the CPU, made contiguous) with optional text metadata.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is not null)
            header["__metadata__"] = new JsonObject(metadata.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)JsonValue.Create(m.Value))));
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, value) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            using var cpu = value.detach().cpu().contiguous();
            string dtype = DTypes.First(d => d.Value.Type == cpu.dtype).Key;
            byte[] bytes = cpu.bytes.ToArray();
            header[name] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray(cpu.shape.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
                ["data_offsets"] = new JsonArray(JsonValue.Create(offset), JsonValue.Create(offset + bytes.Length)),
            };
            blobs.Add(bytes);
            offset += bytes.Length;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        string temporary = path + ".tmp";
        using (var file = File.Create(temporary))
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(length, json.Length);
            file.Write(length);
            file.Write(json);
            foreach (var blob in blobs) file.Write(blob);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads every tensor of a file onto the CPU; the caller disposes them.</summary>
    /// <exception cref="InvalidDataException">The file is not well-formed safetensors; the message names the file and the problem.</exception>
    public static Dictionary<string, Tensor> Read(string path) => Open(path, (file, reader) => Read(reader, file.Length));

    /// <summary>The text metadata of a file (<c>__metadata__</c>; empty when there is none), without reading its tensors.</summary>
    /// <exception cref="InvalidDataException">The header is not well-formed; the message names the file.</exception>
    public static Dictionary<string, string> ReadMetadata(string path) => Open(path, (file, reader) =>
    {
        var header = ReadHeader(reader, file.Length);
        if (header["__metadata__"] is not JsonObject metadata) return new Dictionary<string, string>();
        return metadata.ToDictionary(m => m.Key, m => m.Value is JsonValue v && v.TryGetValue<string>(out var text)
            ? text : throw new InvalidDataException($"metadata '{m.Key}' is not a string."));
    });

    /// <summary>Runs <paramref name="read"/> on the open file; every malformation becomes an error that names the file.</summary>
    private static T Open<T>(string path, Func<FileStream, BinaryReader, T> read)
    {
        using var file = File.OpenRead(path);
        using var reader = new BinaryReader(file, Encoding.UTF8, leaveOpen: true);
        try
        {
            return read(file, reader);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or EndOfStreamException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: not a readable safetensors file ({e.Message}).", e);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    private static JsonObject ReadHeader(BinaryReader reader, long length)
    {
        long headerLength = reader.ReadInt64();
        if (headerLength <= 0 || headerLength > MaxHeaderBytes || 8 + headerLength > length)
            throw new InvalidDataException($"header length {headerLength} does not fit a {length}-byte file.");
        return JsonNode.Parse(reader.ReadBytes((int)headerLength))?.AsObject() ?? throw new InvalidDataException("empty header.");
    }

    private static Dictionary<string, Tensor> Read(BinaryReader reader, long length)
    {
        var stream = reader.BaseStream;
        var header = ReadHeader(reader, length);
        long headerLength = stream.Position - 8;
        long dataStart = 8 + headerLength, dataLength = length - dataStart;
        var result = new Dictionary<string, Tensor>();
        try
        {
            var entries = new List<(string Name, string DType, (ScalarType Type, int Size) Type, long[] Shape, long[] Range)>();
            foreach (var (name, node) in header)
            {
                if (name == "__metadata__") continue;
                if (node is not JsonObject entry) throw new InvalidDataException($"tensor '{name}' is not a JSON object.");
                string dtype = entry["dtype"] is JsonValue d && d.TryGetValue<string>(out var text) ? text : throw new InvalidDataException($"tensor '{name}' has no dtype.");
                if (!DTypes.TryGetValue(dtype, out var type)) throw new InvalidDataException($"tensor '{name}' has unsupported dtype {dtype}.");
                var shape = Integers(entry["shape"], name, "shape");
                var range = Integers(entry["data_offsets"], name, "data_offsets");
                if (shape.Any(s => s < 0) || range.Length != 2 || range[0] < 0 || range[1] < range[0] || range[1] > dataLength)
                    throw new InvalidDataException($"tensor '{name}' has an invalid shape or byte range.");
                entries.Add((name, dtype, type, shape, range));
            }
            foreach (var (name, dtype, type, shape, range) in entries.OrderBy(e => e.Range[0]))
            {
                // Checked arithmetic: a shape whose element count overflows is as wrong as one that disagrees with its bytes.
                long elements;
                try
                {
                    elements = shape.Aggregate(1L, (a, b) => checked(a * b));
                    _ = checked(elements * type.Size);
                }
                catch (OverflowException)
                {
                    throw new InvalidDataException($"tensor '{name}': shape [{string.Join(", ", shape)}] is too large.");
                }
                if (elements * type.Size != range[1] - range[0])
                    throw new InvalidDataException($"tensor '{name}': shape [{string.Join(", ", shape)}] of {dtype} needs {elements * type.Size} bytes, the file gives {range[1] - range[0]}.");
                stream.Position = dataStart + range[0];
                byte[] bytes = reader.ReadBytes((int)(range[1] - range[0]));
                var value = empty(shape, dtype: type.Type);
                value.bytes = bytes;
                result[name] = value;
            }
            return result;
        }
        catch
        {
            foreach (var tensor in result.Values) tensor.Dispose();
            throw;
        }
    }

    /// <summary>A JSON array of integers, or an error naming the tensor and the field.</summary>
    private static long[] Integers(JsonNode? node, string tensor, string field)
    {
        if (node is not JsonArray array) throw new InvalidDataException($"tensor '{tensor}' has no {field} array.");
        return array.Select(item => item is JsonValue value && value.TryGetValue<long>(out var number)
            ? number : throw new InvalidDataException($"tensor '{tensor}': {field} holds a non-integer ({item?.ToJsonString() ?? "null"}).")).ToArray();
    }
}
