using System.Runtime.InteropServices;

namespace SpatialPrediction.ML.Machine;

/// <summary>
/// Keeps freed native memory in the process for reuse while a training run or a batched featurisation cursor holds a scope. libtorch has no caching allocator on
/// the CPU: every tensor is a fresh <c>malloc</c>, and glibc serves blocks above its mmap threshold (adaptive, at most
/// 32 MB) with their own <c>mmap</c> and unmaps them on free, so a training step's large activations are faulted in
/// and zero-filled by the kernel again every step. Inside a scope the threshold is 1 GB and the heap is neither
/// trimmed nor grown in small pieces, so those blocks are recycled from the heap; when the last scope ends, the
/// thresholds go back to where glibc's adaptive rule settles and the free memory is returned (<c>malloc_trim</c>). Only with glibc on Linux, and not when the
/// process set its own malloc tuning (<c>MALLOC_*_</c> variables or <c>GLIBC_TUNABLES</c>), which is left alone.
/// </summary>
internal static class NativeHeapReuse
{
    private const int TrimThreshold = -1, TopPad = -2, MmapThreshold = -3;
    // Once set, glibc's thresholds no longer adapt (mallopt cannot undo that), so a scope's end leaves them where the
    // adaptive rule settles in a process that frees large blocks: mmap above 32 MB, trim above twice that.
    private const int SettledMmapThreshold = 32 << 20, SettledTrimThreshold = 64 << 20, GlibcTopPad = 128 * 1024;
    private static readonly object Gate = new();
    private static int holders;
    private static bool? available;

    /// <summary>Whether scopes change anything in this process (glibc, no malloc tuning of the process's own).</summary>
    public static bool Available
    {
        get
        {
            lock (Gate) return available ??= Probe();
        }
    }

    /// <summary>Whether a scope is open now.</summary>
    public static bool Held
    {
        get
        {
            lock (Gate) return holders > 0;
        }
    }

    /// <summary>Starts reusing freed memory until the returned scope (and every other open one) is disposed.</summary>
    public static IDisposable Hold()
    {
        lock (Gate)
        {
            if (!(available ??= Probe())) return new Scope(active: false);
            if (holders++ == 0)
            {
                mallopt(MmapThreshold, 1 << 30);
                mallopt(TrimThreshold, int.MaxValue);
                mallopt(TopPad, 256 << 20);
            }
            return new Scope(active: true);
        }
    }

    private static void Release()
    {
        lock (Gate)
        {
            if (--holders > 0) return;
            mallopt(MmapThreshold, SettledMmapThreshold);
            mallopt(TrimThreshold, SettledTrimThreshold);
            mallopt(TopPad, GlibcTopPad);
            malloc_trim(0);
        }
    }

    private static bool Probe()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return false;
        if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES")?.Contains("glibc.malloc", StringComparison.Ordinal) == true) return false;
        foreach (var name in new[] { "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_" })
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name))) return false;
        try
        {
            // gnu_get_libc_version exists only in glibc (musl has mallopt as a no-op stub).
            return Marshal.PtrToStringAnsi(gnu_get_libc_version()) is { Length: > 0 };
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private sealed class Scope(bool active) : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            if (disposed || !active) return;
            disposed = true;
            Release();
        }
    }

    [DllImport("libc", CallingConvention = CallingConvention.Cdecl)]
    private static extern int mallopt(int parameter, int value);

    [DllImport("libc", CallingConvention = CallingConvention.Cdecl)]
    private static extern int malloc_trim(nuint pad);

    [DllImport("libc", CallingConvention = CallingConvention.Cdecl)]
    private static extern IntPtr gnu_get_libc_version();
}
