using System.Diagnostics;

namespace SpatialPrediction.ML.Performance;

/// <summary>This benchmark tool started again as a child process, so a measurement starts from a fresh heap.</summary>
internal static class ChildProcess
{
    /// <summary>Starts the tool with <paramref name="arguments"/>, its standard output redirected for the caller to read.</summary>
    public static Process StartThisTool(params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        // Run through `dotnet tool.dll` the host needs the assembly's path; an apphost is the tool itself.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        return Process.Start(start)!;
    }
}
