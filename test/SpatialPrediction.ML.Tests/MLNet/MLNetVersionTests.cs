using System.Reflection;
using Microsoft.ML;

namespace SpatialPrediction.ML.Tests.MLNet;

public class MLNetVersionTests
{
    [Test]
    public void The_running_ML_NET_is_the_version_the_publicised_references_were_built_from()
    {
        // The library compiles against publicised copies of ML.NET 5.0.1 internals (build/MLNetInternals.targets);
        // another ML.NET at run time may have moved them. Directory.Packages.props pins [5.0.1]; this catches a drift.
        foreach (var assembly in new[] { typeof(MLContext).Assembly, typeof(Microsoft.ML.Data.TextLoader).Assembly })
        {
            string version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
            version.Should().StartWith("5.0.1", $"{assembly.GetName().Name} must match the pinned ML.NET");
        }
    }
}
