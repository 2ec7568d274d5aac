using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace SpatialPrediction.ML.Performance;

/// <summary>
/// The clock the cores run at while all of them are busy, measured. /proc/cpuinfo reports the nominal clock, which a
/// part that boosts runs above (or a virtual machine reports whatever its host chose), and a peak computed from it is
/// then no ceiling. Every core runs a chain of dependent integer additions and exclusive-ors at once; each takes one
/// cycle on every x86 core, and none can start before the one it depends on, so operations per second are cycles per
/// second.
/// </summary>
internal static class MeasuredClock
{
    private const int OperationsPerIteration = 16;

    /// <summary>Timed runs per core, the best of which counts: an interruption only ever makes a run slower.</summary>
    private const int Runs = 5;

    /// <summary>The slowest core's clock in MHz, every one of <paramref name="cores"/> running the chain for about <paramref name="duration"/>.</summary>
    public static double Megahertz(int cores, TimeSpan duration)
    {
        long iterations = IterationsFor(duration / Runs);
        var best = new double[cores];
        using var start = new Barrier(cores);
        var threads = Enumerable.Range(0, cores).Select(core => new Thread(() =>
        {
            start.SignalAndWait();
            for (int run = 0; run < Runs; run++)
                best[core] = Math.Max(best[core], OperationsPerMicrosecond(iterations));
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return best.Min();
    }

    private static long IterationsFor(TimeSpan duration)
    {
        long iterations = 1 << 16;
        while (true)
        {
            var watch = Stopwatch.StartNew();
            Chain(iterations, 3, 5);
            if (watch.Elapsed >= duration / 4) return (long)(iterations * (duration / watch.Elapsed));
            iterations *= 4;
        }
    }

    private static double OperationsPerMicrosecond(long iterations)
    {
        var watch = Stopwatch.StartNew();
        ulong sink = Chain(iterations, 3, 5);
        double microseconds = watch.Elapsed.TotalMicroseconds;
        GC.KeepAlive(sink);
        return iterations * OperationsPerIteration / microseconds;
    }

    // Optimised from the first call: unoptimised code keeps x on the stack, and a store-and-load per operation would
    // time the memory pipeline instead of the clock.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static ulong Chain(long iterations, ulong a, ulong b)
    {
        ulong x = a;
        for (long i = 0; i < iterations; i++)
        {
            x += a; x ^= b; x += a; x ^= b; x += a; x ^= b; x += a; x ^= b;
            x += a; x ^= b; x += a; x ^= b; x += a; x ^= b; x += a; x ^= b;
        }
        return x;
    }
}
