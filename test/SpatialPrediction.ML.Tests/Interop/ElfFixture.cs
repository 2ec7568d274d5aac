using System.Text;

namespace SpatialPrediction.ML.Tests.Interop;

/// <summary>
/// Builds a minimal ELF64 little-endian image with a .dynstr and a .gnu.version_r section: just enough structure for
/// the version-need patcher, with every byte offset known to the test.
/// </summary>
internal static class ElfFixture
{
    public sealed record Need(string File, params (string Version, ushort Flags)[] Versions);

    public static byte[] Build(params Need[] needs)
    {
        // String table: index 0 is the empty string.
        var strings = new List<byte> { 0 };
        int AddString(string s)
        {
            int offset = strings.Count;
            strings.AddRange(Encoding.ASCII.GetBytes(s));
            strings.Add(0);
            return offset;
        }

        var verneed = new List<byte>();
        for (int n = 0; n < needs.Length; n++)
        {
            var need = needs[n];
            bool lastNeed = n == needs.Length - 1;
            int entrySize = 16 + 16 * need.Versions.Length;
            Put16(verneed, 1);                                  // vn_version
            Put16(verneed, (ushort)need.Versions.Length);       // vn_cnt
            Put32(verneed, (uint)AddString(need.File));         // vn_file
            Put32(verneed, 16);                                 // vn_aux: right after this entry
            Put32(verneed, lastNeed ? 0u : (uint)entrySize);    // vn_next
            for (int a = 0; a < need.Versions.Length; a++)
            {
                var (version, flags) = need.Versions[a];
                Put32(verneed, 0x1234u + (uint)a);             // vna_hash (not checked by the patcher)
                Put16(verneed, flags);                          // vna_flags
                Put16(verneed, (ushort)(2 + a));                // vna_other
                Put32(verneed, (uint)AddString(version));       // vna_name
                Put32(verneed, a == need.Versions.Length - 1 ? 0u : 16u); // vna_next
            }
        }
        var shstrtab = Encoding.ASCII.GetBytes("\0.dynstr\0.gnu.version_r\0.shstrtab\0");

        const int headerSize = 64, sectionHeaderSize = 64;
        int dynstrOffset = headerSize;
        int verneedOffset = Align(dynstrOffset + strings.Count, 8);
        int shstrtabOffset = verneedOffset + verneed.Count;
        int sectionTable = Align(shstrtabOffset + shstrtab.Length, 8);
        var image = new byte[sectionTable + 4 * sectionHeaderSize];

        // ELF header.
        image[0] = 0x7f; image[1] = (byte)'E'; image[2] = (byte)'L'; image[3] = (byte)'F';
        image[4] = 2; image[5] = 1; image[6] = 1;              // 64-bit, little-endian, version 1
        W16(image, 0x10, 3);                                    // ET_DYN
        W16(image, 0x12, 0x3e);                                 // x86-64
        W32(image, 0x14, 1);
        W64(image, 0x28, (ulong)sectionTable);                  // e_shoff
        W16(image, 0x34, headerSize);
        W16(image, 0x3a, sectionHeaderSize);                    // e_shentsize
        W16(image, 0x3c, 4);                                    // e_shnum
        W16(image, 0x3e, 3);                                    // e_shstrndx

        strings.ToArray().CopyTo(image, dynstrOffset);
        verneed.ToArray().CopyTo(image, verneedOffset);
        shstrtab.CopyTo(image, shstrtabOffset);

        // Section 0 is the null section; 1 .dynstr; 2 .gnu.version_r (links to 1); 3 .shstrtab.
        Section(image, sectionTable + 1 * sectionHeaderSize, name: 1, type: 3, dynstrOffset, strings.Count, link: 0, info: 0);
        Section(image, sectionTable + 2 * sectionHeaderSize, name: 9, type: 0x6ffffffe, verneedOffset, verneed.Count, link: 1, info: (uint)needs.Length);
        Section(image, sectionTable + 3 * sectionHeaderSize, name: 24, type: 3, shstrtabOffset, shstrtab.Length, link: 0, info: 0);
        return image;
    }

    private static void Section(byte[] image, int at, uint name, uint type, int offset, int size, uint link, uint info)
    {
        W32(image, at, name);
        W32(image, at + 4, type);
        W64(image, at + 24, (ulong)offset);
        W64(image, at + 32, (ulong)size);
        W32(image, at + 40, link);
        W32(image, at + 44, info);
    }

    private static int Align(int value, int alignment) => (value + alignment - 1) / alignment * alignment;
    private static void Put16(List<byte> b, ushort v) { b.Add((byte)v); b.Add((byte)(v >> 8)); }
    private static void Put32(List<byte> b, uint v) { for (int i = 0; i < 4; i++) b.Add((byte)(v >> (8 * i))); }
    private static void W16(byte[] b, int at, ushort v) { b[at] = (byte)v; b[at + 1] = (byte)(v >> 8); }
    private static void W32(byte[] b, int at, uint v) { for (int i = 0; i < 4; i++) b[at + i] = (byte)(v >> (8 * i)); }
    private static void W64(byte[] b, int at, ulong v) { for (int i = 0; i < 8; i++) b[at + i] = (byte)(v >> (8 * i)); }
}
