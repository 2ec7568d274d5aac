namespace SpatialPrediction.ML.Machine;

/// <summary>
/// The cache sizes the oneDNN inside libtorch 2.10 (v3.7.1) will derive from this processor's CPUID answers, worked out
/// the way its bundled Xbyak does (<c>Cpu::setNumCores</c>, <c>Cpu::setCacheHierarchy</c>,
/// <c>platform::get_per_core_cache_size</c>), so a processor whose answers make oneDNN divide by zero or block its
/// kernels on nonsense sizes is known before the first primitive is built.
/// </summary>
/// <remarks>
/// What goes wrong there: on AMD, Xbyak reads the L1d, L2 and L3 sizes from leaf 0x8000001D subleaves 0, 2 and 3
/// without checking that they describe a cache; a hypervisor that zeroes that leaf (while still setting the
/// <c>topoext</c> flag) gives every level a size of 1 byte, the brgemm convolutions' blocking divides by zero
/// (SIGFPE) or picks blocks that compute wrong and run-to-run different results. Without leaf 0xB (x2APIC topology)
/// Xbyak divides by a zero SMT width while it reads the caches. On Intel, leaf 4 all zero is safe (oneDNN falls back
/// to fixed guesses); only a leaf 4 that describes absurdly small caches would mislead it.
/// </remarks>
internal sealed record OneDnnCacheView(string Vendor, IReadOnlyList<long> PerCoreCacheBytes, string? Problem)
{
    /// <summary>Below this a per-core data cache size is no real cache (the smallest x86 L1 data caches are 16 KiB).</summary>
    public const long SmallestPlausibleCacheBytes = 4 * 1024;

    private const uint AmdVendorEcx = 0x444d4163;   // "cAMD", the end of "AuthenticAMD"
    private const uint IntelVendorEcx = 0x6c65746e; // "ntel", the end of "GenuineIntel"
    private static readonly long[] OneDnnGuesses = { 32 * 1024, 512 * 1024, 1024 * 1024 };

    /// <summary>Whether oneDNN can run right on this processor as it is.</summary>
    public bool Healthy => Problem is null;

    /// <summary>Works out what oneDNN will see from the answers of <paramref name="cpuid"/> (leaf, subleaf).</summary>
    public static OneDnnCacheView Read(Func<uint, uint, CpuidRegisters> cpuid)
    {
        var vendorLeaf = cpuid(0, 0);
        uint maxBasicLeaf = vendorLeaf.Eax;
        bool amd = vendorLeaf.Ecx == AmdVendorEcx, intel = vendorLeaf.Ecx == IntelVendorEcx;
        string vendor = amd ? "AMD" : intel ? "Intel" : "other";
        if (!amd && !intel) return new OneDnnCacheView(vendor, OneDnnGuesses, null); // Xbyak reads nothing; oneDNN guesses.

        // Cpu::setNumCores: threads per core and logical processors per package from leaf 0xB, or 0 without it.
        uint smtWidth = 0, logicalCores = 0;
        bool topologyLeaf = maxBasicLeaf >= 0xB;
        if (topologyLeaf)
        {
            for (uint subleaf = 0; subleaf < 2; subleaf++)
            {
                var answer = cpuid(0xB, subleaf);
                uint level = CpuidRegisters.Bits(answer.Ecx, 8, 15), count = CpuidRegisters.Bits(answer.Ebx, 0, 15);
                if (level == 1) smtWidth = count;
                else if (level == 2) logicalCores = count;
            }
            smtWidth = Math.Max(1u, smtWidth);
            logicalCores = Math.Max(smtWidth, logicalCores);
        }

        var sizes = new List<long>();
        var sharing = new List<long>();
        if (amd)
        {
            if (smtWidth == 0)
                return new OneDnnCacheView(vendor, Array.Empty<long>(),
                    $"CPUID reports no leaf 0xB (highest basic leaf 0x{maxBasicLeaf:X}), so oneDNN divides by a zero thread count per core while reading the caches");
            var empty = new List<string>();
            foreach (uint subleaf in new uint[] { 0, 2, 3 })
            {
                var answer = cpuid(0x8000001D, subleaf);
                if (CpuidRegisters.Bits(answer.Eax, 0, 4) == 0) empty.Add($"{subleaf}");
                sizes.Add(CacheBytes(answer));
                long actual = CpuidRegisters.Bits(answer.Eax, 14, 25) + 1;
                if (logicalCores != 0) actual = Math.Min(actual, logicalCores);
                sharing.Add(Math.Max(actual / smtWidth, 1));
            }
            var perCore = sizes.Zip(sharing, (size, cores) => size / cores).ToList();
            if (empty.Count > 0)
                return new OneDnnCacheView(vendor, perCore,
                    $"CPUID leaf 0x8000001D subleaf {string.Join(", ", empty)} describes no cache, so oneDNN takes the " +
                    $"data caches to be {Describe(perCore)} per core");
            return WithPlausibility(vendor, perCore);
        }

        // Intel: the deterministic cache parameters of leaf 4, data and unified caches in order.
        uint intelSmt = topologyLeaf ? smtWidth : 0, intelLogical = topologyLeaf ? logicalCores : 0;
        for (uint subleaf = 0; sizes.Count < 10; subleaf++)
        {
            var answer = cpuid(4, subleaf);
            uint type = CpuidRegisters.Bits(answer.Eax, 0, 4);
            if (type == 0) break;
            if (type is not (1 or 3)) continue;
            uint actual = CpuidRegisters.Bits(answer.Eax, 14, 25) + 1;
            if (intelLogical != 0) actual = Math.Min(actual, intelLogical);
            if (type == 1 && intelSmt == 0) intelSmt = actual;
            if (intelSmt == 0)
                return new OneDnnCacheView(vendor, Array.Empty<long>(),
                    "CPUID leaf 4 lists a unified cache before any data cache and there is no leaf 0xB, so oneDNN divides by a zero thread count per core");
            sizes.Add(CacheBytes(answer));
            sharing.Add(Math.Max(actual / intelSmt, 1));
        }
        if (sizes.Count == 0) return new OneDnnCacheView(vendor, OneDnnGuesses, null); // oneDNN's own fallback, safe
        return WithPlausibility(vendor, sizes.Zip(sharing, (size, cores) => size / cores).Take(3).ToList());
    }

    /// <summary>Line size × partitions × ways × sets, each field stored minus one, as Xbyak multiplies them (32-bit).</summary>
    private static long CacheBytes(CpuidRegisters answer)
        => unchecked((CpuidRegisters.Bits(answer.Ebx, 22, 31) + 1) * (CpuidRegisters.Bits(answer.Ebx, 12, 21) + 1)
                     * (CpuidRegisters.Bits(answer.Ebx, 0, 11) + 1) * (answer.Ecx + 1));

    private static OneDnnCacheView WithPlausibility(string vendor, IReadOnlyList<long> perCore)
    {
        int level = perCore.ToList().FindIndex(bytes => bytes < SmallestPlausibleCacheBytes);
        return level < 0
            ? new OneDnnCacheView(vendor, perCore, null)
            : new OneDnnCacheView(vendor, perCore,
                $"CPUID describes an L{level + 1} data cache of {perCore[level]} bytes per core, smaller than any real one, and oneDNN sizes its kernels' blocks from it");
    }

    private static string Describe(IReadOnlyList<long> perCore)
        => string.Join(" / ", perCore.Select((bytes, i) => $"L{i + 1} {bytes} B"));
}
