using System.Runtime.CompilerServices;

// The library is compiled against publicised copies of these two assemblies (build/MLNetInternals.targets) to reach
// what ML.NET keeps internal for its own transforms' save/load. This attribute lets CoreCLR honour those accesses
// against the real assemblies at run time.
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Data")]

namespace System.Runtime.CompilerServices
{
    /// <summary>Read by the runtime (not defined by the BCL): skip access checks into the named assembly.</summary>
    [AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
    internal sealed class IgnoresAccessChecksToAttribute(string assemblyName) : Attribute
    {
        /// <summary>The assembly whose non-public members may be used.</summary>
        public string AssemblyName { get; } = assemblyName;
    }
}
