using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace SpatialPrediction.ML.Interop;

/// <summary>
/// The run-time half of the Debian 12 / Ubuntu 22.04 fix for TorchSharp 0.107 (the build half is
/// <c>build/TorchSharpNativeFix.targets</c>): where no build targets ran — a notebook's <c>#r "nuget: …"</c>, a plugin
/// host, an app built without them — and the system's libstdc++ lacks <c>GLIBCXX_3.4.32</c>, it writes a copy of
/// <c>libLibTorchSharp.so</c> with that version need marked weak into a per-user cache, loads libtorch from its own
/// folder, then the patched copy, and points TorchSharp's <c>LibTorchSharp</c> imports at it. It runs once, before this
/// library's first use of TorchSharp (a module initialiser); it does nothing off Linux, where the library already
/// loads, or where the output copy was already patched at build time.
/// </summary>
public static class TorchSharpNativeLoader
{
    private static readonly object Gate = new();
    private static string? status;

    /// <summary>What the loader did, for diagnostics ("not needed: …", "loaded patched copy …").</summary>
    public static string Status => EnsureLoadable();

    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "The native fix must run before the library's first TorchSharp call, whichever public type the caller touches first.")]
    internal static void Initialize()
    {
        try
        {
            EnsureLoadable();
            Machine.OneDnnSafeMode.EnsureApplied();
        }
        catch (InvalidOperationException)
        {
            // Reported again, with the reason, by the callers of EnsureLoadable and OneDnnSafeMode and by TorchSharp's own load error.
        }
    }

    /// <summary>
    /// Makes TorchSharp's native library loadable on this system if it is not; idempotent. Returns what was done.
    /// </summary>
    /// <exception cref="InvalidOperationException">The library needs the fix and it could not be applied; the message says why and what to do.</exception>
    public static string EnsureLoadable()
    {
        lock (Gate)
        {
            return status ??= Apply();
        }
    }

    private static string Apply()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return "not needed: not Linux";
        if (Environment.GetEnvironmentVariable("SPATIAL_PREDICTION_NATIVE_FIX") == "off") return "not needed: disabled by SPATIAL_PREDICTION_NATIVE_FIX=off";
        if (ElfVersionNeedPatcher.SystemLibStdCxxDefines(ElfVersionNeedPatcher.TorchSharpGlibcxxVersion) != false)
            return $"not needed: the system libstdc++ has {ElfVersionNeedPatcher.TorchSharpGlibcxxVersion} (or none was found)";
        var torchSharp = typeof(TorchSharp.torch).Assembly;
        string? original = Candidates(torchSharp).FirstOrDefault(File.Exists);
        if (original is null) return "not needed: no libLibTorchSharp.so found next to the application or TorchSharp (another loader provides it)";
        byte[] image = File.ReadAllBytes(original);
        var need = ElfVersionNeedPatcher.ReadVersionNeeds(image).FirstOrDefault(n => n.Version == ElfVersionNeedPatcher.TorchSharpGlibcxxVersion);
        if (need is null || need.IsWeak) return $"not needed: {original} loads as it is (patched at build time or no such need)";

        string patched;
        try
        {
            patched = PatchedCopy(original, image);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new InvalidOperationException($"TorchSharp's {original} needs {ElfVersionNeedPatcher.TorchSharpGlibcxxVersion}, which this system's libstdc++ " +
                                                $"lacks, and a patched copy could not be written ({e.Message}). Set XDG_CACHE_HOME to a writable folder, or " +
                                                "build the application with this library's MSBuild targets (they patch the output copy).", e);
        }

        // libtorch first, from the folders that hold it, so the patched copy's needs are met by libraries already loaded.
        string? libtorchFolder = SearchFolders(original).FirstOrDefault(f => File.Exists(Path.Combine(f, "libtorch_cpu.so")));
        if (libtorchFolder is not null)
            foreach (string name in new[] { "libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so" })
                if (File.Exists(Path.Combine(libtorchFolder, name))) NativeLibrary.Load(Path.Combine(libtorchFolder, name));
        IntPtr handle;
        try
        {
            handle = NativeLibrary.Load(patched);
        }
        catch (DllNotFoundException e)
        {
            throw new InvalidOperationException($"The patched copy {patched} of TorchSharp's native library does not load: {e.Message}", e);
        }
        try
        {
            NativeLibrary.SetDllImportResolver(torchSharp, (name, _, _) => name == "LibTorchSharp" ? handle : IntPtr.Zero);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException("TorchSharp already has a native library resolver, so the patched copy of libLibTorchSharp.so cannot " +
                                                "be put in its place; build the application with this library's MSBuild targets instead.", e);
        }
        return $"loaded patched copy {patched} of {original}";
    }

    /// <summary>Where an application or a package cache keeps the library, most specific first.</summary>
    private static IEnumerable<string> Candidates(Assembly torchSharp)
        => SearchFolders(null, torchSharp).Select(folder => Path.Combine(folder, "libLibTorchSharp.so"));

    private static IEnumerable<string> SearchFolders(string? original, Assembly? torchSharp = null)
    {
        if (original is not null) yield return Path.GetDirectoryName(original)!;
        string app = AppContext.BaseDirectory;
        string rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        yield return Path.Combine(app, "runtimes", rid, "native");
        yield return app;
        // Hosts that resolve packages themselves (notebooks) list their native folders here.
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string directories)
            foreach (string folder in directories.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                yield return folder;
        torchSharp ??= typeof(TorchSharp.torch).Assembly;
        if (Path.GetDirectoryName(torchSharp.Location) is { Length: > 0 } lib)
        {
            // NuGet layout: torchsharp/<version>/lib/<tfm>/TorchSharp.dll and torchsharp/<version>/runtimes/<rid>/native/.
            yield return Path.GetFullPath(Path.Combine(lib, "..", "..", "runtimes", rid, "native"));
            // libtorch comes in its own packages next to it: libtorch-cpu-<rid>/<version>/runtimes/<rid>/native/.
            string packages = Path.GetFullPath(Path.Combine(lib, "..", "..", "..", ".."));
            if (Directory.Exists(packages))
                foreach (string package in Directory.EnumerateDirectories(packages, "libtorch-*").OrderByDescending(p => p, StringComparer.Ordinal))
                foreach (string version in Directory.EnumerateDirectories(package).OrderByDescending(v => v, StringComparer.Ordinal))
                    yield return Path.Combine(version, "runtimes", rid, "native");
        }
    }

    private static string PatchedCopy(string original, byte[] image)
    {
        string hash = Convert.ToHexString(SHA256.HashData(image))[..16].ToLowerInvariant();
        string cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        string folder = Path.Combine(cache, "spatial-prediction", "native", hash);
        string target = Path.Combine(folder, "libLibTorchSharp.so");
        if (File.Exists(target)) return target;
        Directory.CreateDirectory(folder);
        var outcome = ElfVersionNeedPatcher.MarkWeak(image, ElfVersionNeedPatcher.TorchSharpGlibcxxVersion);
        if (outcome is not (VersionNeedPatchOutcome.Patched or VersionNeedPatchOutcome.AlreadyWeak))
            throw new InvalidDataException($"{original}: the {ElfVersionNeedPatcher.TorchSharpGlibcxxVersion} need could not be marked weak ({outcome}).");
        string temporary = target + $".{Environment.ProcessId}.tmp";
        File.WriteAllBytes(temporary, image);
        File.Move(temporary, target, overwrite: true); // atomic: a concurrent process sees the old file or the whole new one
        return target;
    }
}
