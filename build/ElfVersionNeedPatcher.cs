// One source file, two users: the MSBuild task below (compiled by RoslynCodeTaskFactory at build time) and the
// library, which defines ELF_PATCHER_ONLY and compiles the patcher alone for its run-time fallback
// (src/SpatialPrediction.ML/Interop/TorchSharpNativeLoader.cs); the unit tests test the library's copy. It therefore sticks to APIs available on netstandard2.0 and to C# that every compiler
// in play accepts.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace SpatialPrediction.ML.Interop
{
    /// <summary>What <see cref="ElfVersionNeedPatcher.MarkWeak(byte[], string)"/> did to an image.</summary>
    internal enum VersionNeedPatchOutcome
    {
        /// <summary>The version need was found and its VER_FLG_WEAK bit has been set.</summary>
        Patched,
        /// <summary>The version need was already weak; nothing changed.</summary>
        AlreadyWeak,
        /// <summary>The file does not ask for that version; nothing changed.</summary>
        NotReferenced,
    }

    /// <summary>One entry of an ELF file's <c>.gnu.version_r</c>: a library and a symbol version it needs.</summary>
    internal sealed class VersionNeedEntry
    {
        internal VersionNeedEntry(string file, string version, ushort flags, long flagsOffset)
        {
            File = file;
            Version = version;
            Flags = flags;
            FlagsOffset = flagsOffset;
        }

        /// <summary>The needed library, e.g. <c>libstdc++.so.6</c>.</summary>
        public string File { get; }
        /// <summary>The needed version, e.g. <c>GLIBCXX_3.4.32</c>.</summary>
        public string Version { get; }
        /// <summary><c>vna_flags</c>; bit 0x2 (VER_FLG_WEAK) makes the loader accept a library without this version.</summary>
        public ushort Flags { get; }
        /// <summary>File offset of <c>vna_flags</c>.</summary>
        public long FlagsOffset { get; }
        /// <summary>Whether the loader treats this need as optional.</summary>
        public bool IsWeak => (Flags & ElfVersionNeedPatcher.VerFlagWeak) != 0;
    }

    /// <summary>
    /// Marks one symbol-version requirement of a 64-bit little-endian ELF shared library as weak.
    /// </summary>
    /// <remarks>
    /// TorchSharp 0.107's <c>libLibTorchSharp.so</c> needs <c>GLIBCXX_3.4.32</c> only because the compiler emitted a
    /// reference to <c>std::ios_base_library_init()</c>, a link-time marker with no relocation. Debian 12 and
    /// Ubuntu 22.04 ship a libstdc++ without that version, so the loader refuses the library. Setting VER_FLG_WEAK
    /// in that <c>Vernaux</c> entry turns the hard failure into nothing at all, and no code ever calls the symbol.
    /// </remarks>
    internal static class ElfVersionNeedPatcher
    {
        /// <summary>VER_FLG_WEAK from elf.h.</summary>
        public const ushort VerFlagWeak = 0x2;

        /// <summary>The version TorchSharp 0.107 needs and older libstdc++ lacks.</summary>
        public const string TorchSharpGlibcxxVersion = "GLIBCXX_3.4.32";

        const uint ShtGnuVerneed = 0x6ffffffe;

        /// <summary>Lists every version need of an ELF64 little-endian image.</summary>
        /// <exception cref="InvalidDataException">The bytes are not a well-formed ELF64 little-endian file.</exception>
        public static IReadOnlyList<VersionNeedEntry> ReadVersionNeeds(byte[] image)
        {
            if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
                throw new InvalidDataException("Not an ELF file (bad magic).");
            if (image[4] != 2 || image[5] != 1)
                throw new InvalidDataException("Only 64-bit little-endian ELF files are supported.");

            long sectionTable = (long)U64(image, 0x28);
            int sectionSize = U16(image, 0x3a);
            int sectionCount = U16(image, 0x3c);
            if (sectionSize < 64 || sectionTable <= 0 || sectionTable + (long)sectionSize * sectionCount > image.Length)
                throw new InvalidDataException("ELF section header table lies outside the file.");

            var result = new List<VersionNeedEntry>();
            for (int s = 0; s < sectionCount; s++)
            {
                long header = sectionTable + (long)s * sectionSize;
                if (U32(image, header + 4) != ShtGnuVerneed) continue;

                long offset = (long)U64(image, header + 24);
                long size = (long)U64(image, header + 32);
                uint stringSection = U32(image, header + 40);
                uint needCount = U32(image, header + 44);
                if (stringSection >= sectionCount || offset < 0 || offset + size > image.Length)
                    throw new InvalidDataException("ELF .gnu.version_r section is out of bounds.");
                long strings = (long)U64(image, sectionTable + (long)stringSection * sectionSize + 24);

                long need = offset;
                for (uint n = 0; n < needCount; n++)
                {
                    CheckRange(image, need, 16, offset, size);
                    int auxCount = U16(image, need + 2);
                    string file = CString(image, strings + U32(image, need + 4));
                    long aux = need + U32(image, need + 8);
                    for (int a = 0; a < auxCount; a++)
                    {
                        CheckRange(image, aux, 16, offset, size);
                        string version = CString(image, strings + U32(image, aux + 8));
                        result.Add(new VersionNeedEntry(file, version, (ushort)U16(image, aux + 4), aux + 4));
                        uint nextAux = U32(image, aux + 12);
                        if (nextAux == 0) break;
                        aux += nextAux;
                    }
                    uint nextNeed = U32(image, need + 12);
                    if (nextNeed == 0) break;
                    need += nextNeed;
                }
            }
            return result;
        }

        /// <summary>Sets VER_FLG_WEAK on every need of <paramref name="version"/> in the image, in place.</summary>
        public static VersionNeedPatchOutcome MarkWeak(byte[] image, string version)
        {
            var outcome = VersionNeedPatchOutcome.NotReferenced;
            foreach (var entry in ReadVersionNeeds(image))
            {
                if (entry.Version != version) continue;
                if (entry.IsWeak)
                {
                    if (outcome == VersionNeedPatchOutcome.NotReferenced) outcome = VersionNeedPatchOutcome.AlreadyWeak;
                    continue;
                }
                ushort flags = (ushort)(entry.Flags | VerFlagWeak);
                image[entry.FlagsOffset] = (byte)flags;
                image[entry.FlagsOffset + 1] = (byte)(flags >> 8);
                outcome = VersionNeedPatchOutcome.Patched;
            }
            return outcome;
        }

        /// <summary>
        /// Patches a file on disk. The new bytes go to a sibling temporary file that then replaces the original,
        /// so a crash never leaves a half-written library and a hard link into the NuGet cache is never edited.
        /// </summary>
        public static VersionNeedPatchOutcome MarkWeak(string path, string version)
        {
            byte[] image = File.ReadAllBytes(path);
            var outcome = MarkWeak(image, version);
            if (outcome != VersionNeedPatchOutcome.Patched) return outcome;

            string temporary = path + ".weak-" + Guid.NewGuid().ToString("N") + ".tmp";
            try
            {
                File.WriteAllBytes(temporary, image);
                if (File.Exists(path)) File.Delete(path);
                File.Move(temporary, path);
            }
            finally
            {
                if (File.Exists(temporary)) File.Delete(temporary);
            }
            return outcome;
        }

        /// <summary>
        /// Whether the system's <c>libstdc++.so.6</c> defines <paramref name="version"/>. Returns <c>null</c> when no
        /// system libstdc++ is found in the usual multiarch and lib64 folders.
        /// </summary>
        public static bool? SystemLibStdCxxDefines(string version)
        {
            string[] folders =
            {
                "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                "/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib",
            };
            foreach (string folder in folders)
            {
                string candidate = Path.Combine(folder, "libstdc++.so.6");
                if (!File.Exists(candidate)) continue;
                return Contains(File.ReadAllBytes(candidate), Encoding.ASCII.GetBytes(version + "\0"));
            }
            return null;
        }

        static bool Contains(byte[] haystack, byte[] needle)
        {
            for (int i = 0; i + needle.Length <= haystack.Length; i++)
            {
                if (haystack[i] != needle[0]) continue;
                int j = 1;
                while (j < needle.Length && haystack[i + j] == needle[j]) j++;
                if (j == needle.Length) return true;
            }
            return false;
        }

        static void CheckRange(byte[] image, long at, int length, long sectionStart, long sectionSize)
        {
            if (at < sectionStart || at + length > sectionStart + sectionSize || at + length > image.Length)
                throw new InvalidDataException("ELF version-need chain points outside .gnu.version_r.");
        }

        static string CString(byte[] image, long at)
        {
            if (at < 0 || at >= image.Length) throw new InvalidDataException("ELF string offset outside the file.");
            long end = at;
            while (end < image.Length && image[end] != 0) end++;
            return Encoding.ASCII.GetString(image, (int)at, (int)(end - at));
        }

        static int U16(byte[] b, long at) => b[at] | (b[at + 1] << 8);
        static uint U32(byte[] b, long at) => (uint)(b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24));
        static ulong U64(byte[] b, long at) => U32(b, at) | ((ulong)U32(b, at + 4) << 32);
    }

#if !ELF_PATCHER_ONLY
    /// <summary>
    /// MSBuild task: in each given folder (recursively), marks <c>GLIBCXX_3.4.32</c> weak in every
    /// <c>libLibTorchSharp.so</c>, but only when the build machine's libstdc++ lacks that version.
    /// </summary>
    public sealed class MarkTorchSharpGlibcxxNeedWeak : Microsoft.Build.Utilities.Task
    {
        /// <summary>Output folders to scan (build output, publish folder).</summary>
        [Microsoft.Build.Framework.Required]
        public string[] Directories { get; set; } = new string[0];

        public override bool Execute()
        {
            var libraries = new List<string>();
            foreach (string directory in Directories)
            {
                if (!System.IO.Directory.Exists(directory)) continue;
                libraries.AddRange(System.IO.Directory.GetFiles(directory, "libLibTorchSharp.so", SearchOption.AllDirectories));
            }
            if (libraries.Count == 0) return true;

            bool? defined = ElfVersionNeedPatcher.SystemLibStdCxxDefines(ElfVersionNeedPatcher.TorchSharpGlibcxxVersion);
            if (defined == true)
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low,
                    "System libstdc++ defines {0}; TorchSharp's native library needs no fix.", ElfVersionNeedPatcher.TorchSharpGlibcxxVersion);
                return true;
            }

            foreach (string library in libraries)
            {
                try
                {
                    var outcome = ElfVersionNeedPatcher.MarkWeak(library, ElfVersionNeedPatcher.TorchSharpGlibcxxVersion);
                    if (outcome == VersionNeedPatchOutcome.Patched)
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                            "Marked {0} weak in {1} (system libstdc++ lacks it).", ElfVersionNeedPatcher.TorchSharpGlibcxxVersion, library);
                }
                catch (Exception e)
                {
                    Log.LogError("Could not make {0} loadable on this system's libstdc++: {1}", library, e.Message);
                }
            }
            return !Log.HasLoggedErrors;
        }
    }
#endif
}
