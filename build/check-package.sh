#!/usr/bin/env bash
# Packs SpatialPrediction.ML into a local feed, builds a fresh console app against the package (as a user would, with
# TorchSharp-cpu as the backend it picks) and runs it: restore, the buildTransitive native fix, a short pretraining
# and a featurisation must all work outside this repository's build.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
feed="$root/artifacts/feed"
version=$(sed -nE 's|.*<Version>(.*)</Version>.*|\1|p' "$root/src/SpatialPrediction.ML/SpatialPrediction.ML.csproj")
rm -rf "$feed"
dotnet pack "$root/src/SpatialPrediction.ML" -c Release -o "$feed" -v quiet -nologo
# A package of this version from an earlier run must not be restored from the cache instead of the new one.
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/spatialprediction.ml/$version"

app=$(mktemp -d)
trap 'rm -rf "$app"' EXIT
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
Console.WriteLine($"native fix: {SpatialPrediction.ML.Interop.TorchSharpNativeLoader.Status}");
Console.WriteLine($"consumer ok: {features.Count} rows of {features[0].Length} features after {featurizer.TrainingHistory!.Steps.Count} steps");
featurizer.Backbone.Dispose();
CS
cd "$app"
dotnet run -c Release -nologo | tee run.log
grep -q "consumer ok: 32 rows of 32 features" run.log
echo "package check: passed ($feed)"
