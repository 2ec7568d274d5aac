using System.Diagnostics;

namespace SpatialPrediction.ML.Tests.Interop.PythonCompanion;

/// <summary>
/// Runs the Python companion (python/ in the repository) with Debian's interpreter, where python3-torch lives:
/// <c>/usr/bin/python3</c> unless <c>SPATIAL_PREDICTION_PYTHON</c> names another.
/// </summary>
internal static class PythonProcess
{
    public static string Interpreter => Environment.GetEnvironmentVariable("SPATIAL_PREDICTION_PYTHON") is { Length: > 0 } chosen ? chosen : "/usr/bin/python3";

    /// <summary>The repository's python/ folder, found upwards from the test binaries.</summary>
    public static string PackageFolder { get; } = FindPackageFolder();

    private static string FindPackageFolder()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            string candidate = Path.Combine(folder.FullName, "python", "spatial_prediction_torch");
            if (Directory.Exists(candidate)) return Path.GetDirectoryName(candidate)!;
        }
        throw new DirectoryNotFoundException($"No python/spatial_prediction_torch above {AppContext.BaseDirectory}.");
    }

    /// <summary>Fails the test with what to install when PyTorch is not importable.</summary>
    public static void RequireTorch()
    {
        var (code, output) = Run(new[] { "-c", "import torch, torchvision; print(torch.__version__)" }, TimeSpan.FromMinutes(1));
        if (code != 0)
            Assert.Fail($"The Python companion's tests need PyTorch for {Interpreter}: {output.Trim()}\n" +
                        "On Debian 12: sudo apt-get install python3-torch python3-torchvision (bash .ci/run installs them when missing), " +
                        "or set SPATIAL_PREDICTION_PYTHON to an interpreter that has torch and torchvision.");
    }

    /// <summary>Runs the interpreter in python/ with the package importable; returns the exit code and stdout + stderr.</summary>
    public static (int ExitCode, string Output) Run(IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(Interpreter)
        {
            WorkingDirectory = PackageFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["PYTHONPATH"] = PackageFolder;
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        // One libtorch thread per process: the .NET test host's own threads share these cores.
        start.Environment["OMP_NUM_THREADS"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception error)
        {
            return (-1, $"cannot start {Interpreter}: {error.Message}");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                return (-1, $"timed out after {timeout.TotalSeconds:F0} s\n{stdout.Result}{stderr.Result}");
            }
            return (process.ExitCode, stdout.Result + stderr.Result);
        }
    }
}
