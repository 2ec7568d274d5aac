#!/usr/bin/env bash
# Packs SpatialPrediction.ML into a local feed, builds a fresh console app against the package (as a user would, with
# TorchSharp-cpu as the backend it picks) and runs it: restore, the buildTransitive native fix, a short pretraining,
# a featurisation, a model zip saved and loaded back and a linear probe must all work outside this repository's build.
# It runs at each end of the ML.NET range the package accepts (Directory.Packages.props): the library reaches into
# ML.NET's internals for model zips, so each end is proven, not assumed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
feed="$root/artifacts/feed"
version=$(sed -nE 's|.*<Version>(.*)</Version>.*|\1|p' "$root/src/SpatialPrediction.ML/SpatialPrediction.ML.csproj")
rm -rf "$feed"
dotnet pack "$root/src/SpatialPrediction.ML" -c Release -o "$feed" -v quiet -nologo
# A package of this version from an earlier run must not be restored from the cache instead of the new one.
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/spatialprediction.ml/$version"

check() {
  local mlnet=$1 app
  app=$(mktemp -d)
  cat > "$app/NuGet.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
XML
  cat > "$app/Consumer.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <NoWarn>NU1603</NoWarn>
    <!-- Links instead of copies of libtorch: the CI disk may have little room. -->
    <CreateHardLinksForCopyLocalIfPossible>true</CreateHardLinksForCopyLocalIfPossible>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="SpatialPrediction.ML" Version="$version" />
    <PackageReference Include="TorchSharp-cpu" Version="0.107.0" />
    <PackageReference Include="Microsoft.ML" Version="$mlnet" />
    <PackageReference Include="Microsoft.ML.ImageAnalytics" Version="$mlnet" />
    <PackageReference Include="Microsoft.ML.OnnxTransformer" Version="$mlnet" />
  </ItemGroup>
</Project>
XML
  cat > "$app/Program.cs" <<'CS'
using Microsoft.ML;
using Microsoft.ML.Data;
using SpatialPrediction.ML;
using SpatialPrediction.ML.Data;

var mlContext = new MLContext(seed: 1);
var data = SpatialScenes.GenerateDataView(mlContext, 32, new SpatialScenesOptions { ImageSize = 32 });
var featurizer = mlContext.Transforms.SpatialPretrain(new SpatialPretrainOptions
{
    ImageSize = 32, BackboneWidth = 4, Epochs = 1, BatchSize = 8, ValidationFraction = 0,
}).Fit(data);
var features = featurizer.Transform(data).GetColumn<float[]>("Features").ToList();
mlContext.Model.Save(featurizer, data.Schema, "model.zip");
var loaded = mlContext.Model.Load("model.zip", out _);
var again = loaded.Transform(data).GetColumn<float[]>("Features").ToList();
if (!features.Zip(again).All(p => p.First.SequenceEqual(p.Second))) throw new Exception("the loaded model zip featurises differently");
var probe = mlContext.Transforms.Conversion.MapValueToKey("Label")
    .Append(mlContext.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", "Features"))
    .Fit(loaded.Transform(data));
var accuracy = mlContext.MulticlassClassification.Evaluate(probe.Transform(loaded.Transform(data))).MicroAccuracy;
Console.WriteLine($"native fix: {SpatialPrediction.ML.Interop.TorchSharpNativeLoader.Status}");
var mlnetVersion = System.Reflection.CustomAttributeExtensions.GetCustomAttribute<System.Reflection.AssemblyInformationalVersionAttribute>(typeof(MLContext).Assembly)!.InformationalVersion;
Console.WriteLine($"ML.NET {mlnetVersion}; probe accuracy on its own rows {accuracy:P0}");
Console.WriteLine($"consumer ok: {features.Count} rows of {features[0].Length} features after {featurizer.TrainingHistory!.Steps.Count} steps, saved and loaded");
featurizer.Backbone.Dispose();
CS
  (cd "$app" && dotnet run -c Release -nologo | tee run.log)
  grep -q "consumer ok: 32 rows of 32 features" "$app/run.log"
  grep -q "^ML.NET $mlnet[+;]" "$app/run.log"
  rm -rf "$app"
  echo "package check with ML.NET $mlnet: passed"
}

# The lowest ML.NET the package accepts (the one it is built against) and the newest served.
check 5.0.1
check 6.0.0
echo "package check: passed ($feed)"
