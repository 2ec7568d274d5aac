using System.Runtime.Intrinsics.X86;

namespace SpatialPrediction.ML.Machine;

/// <summary>The four registers one CPUID query (leaf, subleaf) answers.</summary>
internal readonly record struct CpuidRegisters(uint Eax, uint Ebx, uint Ecx, uint Edx)
{
    /// <summary>Bits <paramref name="low"/>..<paramref name="high"/> (inclusive) of <paramref name="value"/>.</summary>
    public static uint Bits(uint value, int low, int high) => (value >> low) & (uint)((1UL << (high - low + 1)) - 1);

    /// <summary>This processor's answer, or null off x86.</summary>
    public static Func<uint, uint, CpuidRegisters>? OfThisProcessor()
    {
        if (!X86Base.IsSupported) return null;
        return (leaf, subleaf) =>
        {
            var (eax, ebx, ecx, edx) = X86Base.CpuId(unchecked((int)leaf), unchecked((int)subleaf));
            return new CpuidRegisters(unchecked((uint)eax), unchecked((uint)ebx), unchecked((uint)ecx), unchecked((uint)edx));
        };
    }
}
