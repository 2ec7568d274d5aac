#!/usr/bin/env bash
# Runs every notebook in samples/notebooks headless with dotnet-repl (a .NET tool) against the package in
# artifacts/feed (run build/check-package.sh or dotnet pack first), and fails on any cell error or when an executed
# notebook lacks its metrics table or its plot. Executed copies are written to artifacts/notebooks/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/artifacts/tools"
[[ -x "$tools/dotnet-repl" ]] || dotnet tool install --tool-path "$tools" dotnet-repl --version 0.3.259 >/dev/null
out="$root/artifacts/notebooks"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for notebook in "$root"/samples/notebooks/*.ipynb; do
  name=$(basename "$notebook")
  sed "s|/ABSOLUTE/PATH/TO/artifacts/feed|$root/artifacts/feed|" "$notebook" > "$work/$name"
  start=$(date +%s)
  # dotnet-repl's own exit code is not relied on: the executed notebook is checked below, and says what failed.
  "$tools/dotnet-repl" --run "$work/$name" --exit-after-run --output-path "$out/$name" --working-dir "$work" > "$work/$name.log" 2>&1 || true
  [[ -f "$out/$name" ]] || { echo "notebook $name: dotnet-repl wrote no output:"; tail -20 "$work/$name.log"; exit 1; }
  python3 - "$out/$name" <<'PY'
import json, sys
path = sys.argv[1]
outputs = [o for c in json.load(open(path))["cells"] for o in c.get("outputs", [])]
errors = [o.get("evalue", "") for o in outputs if o.get("output_type") == "error"]
html = " ".join("".join(o.get("data", {}).get("text/html", [])) for o in outputs)
if errors: sys.exit(f"{path}: cell error: {errors[0][:800]}")
if "<table" not in html: sys.exit(f"{path}: no metrics table in the outputs")
if "data:image/png;base64," not in html: sys.exit(f"{path}: no plot in the outputs")
PY
  echo "notebook $name: ran without errors, has its table and plot ($(( $(date +%s) - start )) s)"
done
