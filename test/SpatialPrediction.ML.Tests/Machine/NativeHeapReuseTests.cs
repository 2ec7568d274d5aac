using SpatialPrediction.ML.Machine;
using System.Runtime.InteropServices;
using SpatialPrediction.ML.Interop;

namespace SpatialPrediction.ML.Tests.Machine;

public class NativeHeapReuseTests
{
    // Above glibc's largest adaptive mmap threshold (32 MB) and below a thread arena's heap (64 MB): the size of a
    // training step's large activations, which glibc maps afresh on every allocation by default.
    private const int BlockBytes = 48 << 20, Pages = BlockBytes / 4096;

    [Test]
    public void Inside_a_scope_a_freed_large_block_is_reused_without_page_faults()
    {
        NativeHeapReuse.Available.Should().BeTrue("the tests run on Linux with glibc and no malloc tuning of their own");
        // Outside a scope a fresh process faults all 12,288 pages in again; one that trained before may hold a free
        // chunk of that size already, so the baseline is only reported.
        long outside = FaultsOfReallocating();
        long inside;
        using (NativeHeapReuse.Hold()) inside = FaultsOfReallocating();
        TestContext.Out.WriteLine($"page faults reallocating 48 MB: {outside} outside a scope, {inside} inside");

        inside.Should().BeLessThan(Pages / 10, "inside the scope the freed block is recycled from the heap, not faulted in again");
        NativeHeapReuse.Held.Should().BeFalse();
    }

    [Test]
    public void Nested_scopes_keep_reusing_until_the_last_one_ends()
    {
        var outer = NativeHeapReuse.Hold();
        var inner = NativeHeapReuse.Hold();
        inner.Dispose();
        inner.Dispose(); // a second dispose changes nothing
        bool stillHeld = NativeHeapReuse.Held;
        long faultsStillHeld = FaultsOfReallocating();
        outer.Dispose();

        stillHeld.Should().BeTrue("the outer scope is still open");
        faultsStillHeld.Should().BeLessThan(Pages / 10, "blocks are still recycled");
        NativeHeapReuse.Held.Should().BeFalse("the last scope ended");
    }

    /// <summary>
    /// Minor page faults of this thread while a block is allocated, touched, freed, allocated and touched again; the
    /// fewest of three tries, so another thread that shares the arena and takes the freed block once does not decide it.
    /// </summary>
    private static long FaultsOfReallocating()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers(); // TorchSharp's finalizers free native memory on their own thread
        long fewest = long.MaxValue;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            Touch(BlockBytes, out _);
            long before = MinorFaults();
            Touch(BlockBytes, out _);
            fewest = Math.Min(fewest, MinorFaults() - before);
        }
        return fewest;
    }

    private static void Touch(int bytes, out byte first)
    {
        var block = Marshal.AllocHGlobal(bytes); // malloc
        try
        {
            for (int offset = 0; offset < bytes; offset += 4096) Marshal.WriteByte(block, offset, 1); // every page
            first = Marshal.ReadByte(block);
        }
        finally
        {
            Marshal.FreeHGlobal(block);
        }
    }

    private static long MinorFaults()
    {
        const int ThisThread = 1; // RUSAGE_THREAD
        getrusage(ThisThread, out var usage).Should().Be(0);
        return usage.MinorFaults;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ResourceUsage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds;
        public long MaxResident, SharedText, UnsharedData, UnsharedStack, MinorFaults, MajorFaults;
        public long Swaps, BlockInputs, BlockOutputs, MessagesSent, MessagesReceived, Signals, VoluntarySwitches, InvoluntarySwitches;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrusage(int who, out ResourceUsage usage);
}
