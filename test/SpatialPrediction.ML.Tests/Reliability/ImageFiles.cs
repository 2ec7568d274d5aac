using System.IO.Compression;
using System.Text;
using SkiaSharp;

namespace SpatialPrediction.ML.Tests.Reliability;

/// <summary>
/// Hand-built image files for the bad-input matrix: PNG colour types Skia cannot write (grayscale, palette, 16-bit), a
/// CMYK JPEG, an EXIF-rotated JPEG, an animated GIF, a header that claims a huge image. Written byte by byte so each
/// file is exactly the case it stands for.
/// </summary>
internal static class ImageFiles
{
    /// <summary>A PNG of the given colour type and bit depth; <paramref name="rows"/> are the unfiltered scanlines.</summary>
    public static byte[] Png(int width, int height, byte colorType, byte bitDepth, IReadOnlyList<byte[]> rows, byte[]? palette = null)
    {
        using var output = new MemoryStream();
        output.Write(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A });
        var header = new byte[13];
        BigEndian(header, 0, width);
        BigEndian(header, 4, height);
        header[8] = bitDepth;
        header[9] = colorType;
        Chunk(output, "IHDR", header);
        if (palette is not null) Chunk(output, "PLTE", palette);
        using var raw = new MemoryStream();
        foreach (var row in rows)
        {
            raw.WriteByte(0); // filter: none
            raw.Write(row);
        }
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) zlib.Write(raw.ToArray());
        Chunk(output, "IDAT", compressed.ToArray());
        Chunk(output, "IEND", Array.Empty<byte>());
        return output.ToArray();
    }

    /// <summary>A PNG whose header claims width × height but whose data holds one row: decoding it in full would need the claimed size.</summary>
    public static byte[] PngHeaderOnly(int width, int height)
        => Png(width, height, 0, 8, new[] { new byte[Math.Min(width, 1 << 16)] });

    /// <summary>An 8-bit RGB(A) image encoded by Skia, each pixel from <paramref name="color"/>.</summary>
    public static byte[] Encode(int width, int height, Func<int, int, SKColor> color, SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) bitmap.SetPixel(x, y, color(x, y));
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 95);
        return data.ToArray();
    }

    /// <summary>
    /// A JPEG with an EXIF APP1 segment carrying <paramref name="orientation"/> (1–8) inserted after SOI, as cameras write
    /// it: the stored pixels are sideways and the tag says how to turn them.
    /// </summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        var tiff = new List<byte>();
        tiff.AddRange("II*\0"u8.ToArray());
        tiff.AddRange(BitConverter.GetBytes(8u)); // first IFD right after the header
        tiff.AddRange(BitConverter.GetBytes((ushort)1)); // one entry
        tiff.AddRange(BitConverter.GetBytes((ushort)0x0112)); // Orientation
        tiff.AddRange(BitConverter.GetBytes((ushort)3)); // SHORT
        tiff.AddRange(BitConverter.GetBytes(1u)); // count
        tiff.AddRange(BitConverter.GetBytes(orientation));
        tiff.AddRange(new byte[2]);
        tiff.AddRange(BitConverter.GetBytes(0u)); // no next IFD
        var payload = "Exif\0\0"u8.ToArray().Concat(tiff).ToArray();
        int length = payload.Length + 2;
        var segment = new byte[] { 0xFF, 0xE1, (byte)(length >> 8), (byte)length }.Concat(payload);
        return jpeg.Take(2).Concat(segment).Concat(jpeg.Skip(2)).ToArray();
    }

    /// <summary>
    /// An 8×8 baseline JPEG with four components (Adobe APP14, no colour transform: CMYK as print workflows write it).
    /// Every block is flat at the mid level, so the scan is two one-bit Huffman codes per block (DC difference 0, then
    /// end-of-block), with one-symbol tables.
    /// </summary>
    public static byte[] CmykJpeg()
    {
        var bytes = new List<byte> { 0xFF, 0xD8 };
        void Segment(byte marker, params byte[] body)
        {
            bytes.AddRange(new byte[] { 0xFF, marker, (byte)((body.Length + 2) >> 8), (byte)(body.Length + 2) });
            bytes.AddRange(body);
        }
        Segment(0xEE, "Adobe"u8.ToArray().Concat(new byte[] { 0, 100, 0, 0, 0, 0, 0 }).ToArray()); // transform 0: CMYK
        Segment(0xDB, new byte[] { 0 }.Concat(Enumerable.Repeat((byte)1, 64)).ToArray());
        Segment(0xC0, 8, 0, 8, 0, 8, 4, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0);
        var oneCode = new byte[16];
        oneCode[0] = 1; // one code of length 1
        Segment(0xC4, new byte[] { 0x00 }.Concat(oneCode).Concat(new byte[] { 0 }).ToArray()); // DC table 0: category 0
        Segment(0xC4, new byte[] { 0x10 }.Concat(oneCode).Concat(new byte[] { 0 }).ToArray()); // AC table 0: end of block
        Segment(0xDA, 4, 1, 0x00, 2, 0x00, 3, 0x00, 4, 0x00, 0, 63, 0);
        bytes.Add(0x00); // 4 blocks × ("0" DC, "0" EOB) = 8 zero bits
        bytes.AddRange(new byte[] { 0xFF, 0xD9 });
        return bytes.ToArray();
    }

    /// <summary>
    /// A two-frame animated GIF (NETSCAPE loop) of <paramref name="size"/>², the first frame all palette entry 1, the second
    /// all entry 2. LZW with a clear code after every two pixels keeps the code width at 3 bits.
    /// </summary>
    public static byte[] AnimatedGif(int size, SKColor first, SKColor second)
    {
        var bytes = new List<byte>();
        bytes.AddRange("GIF89a"u8.ToArray());
        bytes.AddRange(BitConverter.GetBytes((ushort)size));
        bytes.AddRange(BitConverter.GetBytes((ushort)size));
        bytes.AddRange(new byte[] { 0xF1, 0, 0 }); // global table of 4 colours
        foreach (var c in new[] { SKColors.Black, first, second, SKColors.White }) bytes.AddRange(new[] { c.Red, c.Green, c.Blue });
        bytes.AddRange(new byte[] { 0x21, 0xFF, 11 });
        bytes.AddRange("NETSCAPE2.0"u8.ToArray());
        bytes.AddRange(new byte[] { 3, 1, 0, 0, 0 });
        foreach (byte index in new byte[] { 1, 2 })
        {
            bytes.AddRange(new byte[] { 0x21, 0xF9, 4, 0x04, 10, 0, 0, 0 }); // graphic control: 0.1 s, keep frame
            bytes.Add(0x2C);
            bytes.AddRange(new byte[4]);
            bytes.AddRange(BitConverter.GetBytes((ushort)size));
            bytes.AddRange(BitConverter.GetBytes((ushort)size));
            bytes.Add(0);
            bytes.Add(2); // LZW minimum code size
            var codes = new List<int>();
            for (int p = 0; p < size * size; p++)
            {
                if (p % 2 == 0) codes.Add(4); // clear
                codes.Add(index);
            }
            codes.Add(5); // end of information
            var packed = new List<byte>();
            int buffer = 0, bits = 0;
            foreach (int code in codes)
            {
                buffer |= code << bits;
                bits += 3;
                while (bits >= 8) { packed.Add((byte)buffer); buffer >>= 8; bits -= 8; }
            }
            if (bits > 0) packed.Add((byte)buffer);
            for (int i = 0; i < packed.Count; i += 255)
            {
                var block = packed.Skip(i).Take(255).ToArray();
                bytes.Add((byte)block.Length);
                bytes.AddRange(block);
            }
            bytes.Add(0);
        }
        bytes.Add(0x3B);
        return bytes.ToArray();
    }

    private static void Chunk(Stream output, string type, byte[] data)
    {
        var length = new byte[4];
        BigEndian(length, 0, data.Length);
        output.Write(length);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        output.Write(typed);
        var crc = new byte[4];
        BigEndian(crc, 0, (int)Crc32(typed));
        output.Write(crc);
    }

    private static void BigEndian(byte[] target, int offset, int value)
    {
        target[offset] = (byte)(value >> 24);
        target[offset + 1] = (byte)(value >> 16);
        target[offset + 2] = (byte)(value >> 8);
        target[offset + 3] = (byte)value;
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}
