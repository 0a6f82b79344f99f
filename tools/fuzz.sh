#!/usr/bin/env bash
# Long fuzz runs: every tools/Fuzz target for FUZZ_SECONDS each (default 300), seed FUZZ_SEED (default 1).
# Exit code non-zero if any target crashed or hung; crashing inputs are in artifacts/fuzz/. See docs/FUZZING.md.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-300}"
seed="${FUZZ_SEED:-1}"
dotnet build tools/Fuzz -c Release -v quiet -nologo >/dev/null || { echo "build failed"; exit 2; }
status=0
for target in safetensors torch-bin image jpeg preprocess generator-json api native-abi filenames; do
    dotnet tools/Fuzz/bin/Release/net10.0/AotVit.Fuzz.dll "$target" --seed "$seed" --seconds "$seconds" || status=1
done
echo "fuzz: $([ $status -eq 0 ] && echo clean || echo 'CRASH OR HANG (see artifacts/fuzz/)')"
exit $status
