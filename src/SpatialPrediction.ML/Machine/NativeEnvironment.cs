using System.Runtime.InteropServices;

namespace SpatialPrediction.ML.Machine;

/// <summary>
/// The C library's environment, which native code reads with <c>getenv</c>. On Unix, .NET keeps its own copy of the
/// environment, so <see cref="Environment.SetEnvironmentVariable(string, string)"/> is not seen by libtorch; on
/// Windows the C runtime's copy is updated through <c>_putenv_s</c>.
/// </summary>
internal static class NativeEnvironment
{
    /// <summary>The variable as native code sees it, or null.</summary>
    public static string? Get(string name)
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) return Environment.GetEnvironmentVariable(name);
        IntPtr value = getenv(name);
        return value == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(value);
    }

    /// <summary>Sets the variable for native code (and for .NET's view of the environment).</summary>
    public static void Set(string name, string value)
    {
        int result = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? _putenv_s(name, value) : setenv(name, value, 1);
        if (result != 0) throw new InvalidOperationException($"Could not set {name}={value} in the native environment (error {Marshal.GetLastPInvokeError()}).");
        Environment.SetEnvironmentVariable(name, value);
    }

    /// <summary>Whether libtorch is already in the process (Linux; false elsewhere).</summary>
    public static bool LibtorchLoaded
    {
        get
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return false;
            IntPtr handle = dlopen("libtorch_cpu.so", RtldLazy | RtldNoLoad);
            if (handle == IntPtr.Zero) return false;
            dlclose(handle);
            return true;
        }
    }

    private const int RtldLazy = 0x1, RtldNoLoad = 0x4;

    [DllImport("libc", SetLastError = true)]
    private static extern int setenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    [DllImport("libc")]
    private static extern IntPtr getenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    [DllImport("libc")]
    private static extern IntPtr dlopen([MarshalAs(UnmanagedType.LPUTF8Str)] string file, int mode);

    [DllImport("libc")]
    private static extern int dlclose(IntPtr handle);

    [DllImport("ucrtbase", SetLastError = true, CharSet = CharSet.Ansi)]
    private static extern int _putenv_s(string name, string value);
}
