// Workload benchmarks that print one table per run. Usage:
//   dotnet run -c Release --project test/SpatialPrediction.ML.Benchmarks -- featurize [images]
using SpatialPrediction.ML.Benchmarks;

string mode = args.Length > 0 ? args[0] : "featurize";
switch (mode)
{
    case "featurize":
        FeaturizationBenchmark.Run(args.Length > 1 ? int.Parse(args[1]) : 512);
        break;
    default:
        Console.Error.WriteLine($"Unknown benchmark '{mode}'. Available: featurize [images].");
        return 2;
}
return 0;
