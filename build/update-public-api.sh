#!/usr/bin/env bash
# Adds the library's new public symbols to src/SpatialPrediction.ML/PublicAPI.Unshipped.txt and drops the ones that
# no longer exist, from the public API analyzers' own diagnostics (RS0016 new, RS0017 removed). Review the diff.
set -euo pipefail
cd "$(dirname "$0")/.."
file=src/SpatialPrediction.ML/PublicAPI.Unshipped.txt
log=$(mktemp)
dotnet build src/SpatialPrediction.ML -c Release --no-incremental -p:TreatWarningsAsErrors=false >"$log" 2>&1 || true
grep -o "RS0016: Symbol '.*' is not part of the declared public API" "$log" | sed "s/RS0016: Symbol '//; s/' is not part of the declared public API//" | sort -u >"$log.added" || true
grep -o "RS0017: Symbol '.*' is part of the declared API, but is either not public or could not be found" "$log" | sed "s/RS0017: Symbol '//; s/' is part of the declared API.*//" | sort -u >"$log.removed" || true
{ echo '#nullable enable'; { grep -v '^#nullable' "$file" | grep -vxF -f "$log.removed" || true; cat "$log.added"; } | sort -u; } >"$file.new"
mv "$file.new" "$file"
echo "public API: $(wc -l <"$log.added") added, $(wc -l <"$log.removed") removed ($file)"
rm -f "$log" "$log.added" "$log.removed"
