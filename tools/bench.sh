#!/usr/bin/env bash
# Side-by-side benchmark: aot-vit vs ONNX Runtime 1.31.1 vs PyTorch eager → docs/BENCHMARKS.md + docs/bench/latency.svg.
# Fully automatic and idempotent; rerun after kernel changes. Steps:
#   1. ONNX export of both models (seed-0 synthetic weights) into artifacts/bench/onnx, if missing (needs /usr/bin/python3 + torch).
#   2. PyTorch eager timings → docs/bench/torch.json (kept between runs, ~10 min on a busy 2-core box; BENCH_TORCH=1 reruns it).
#   3. bench/AotVit.Bench in Release (JIT): interleaved aot-vit/ORT timing, agreement, cold start, RSS → artifacts/bench/results-jit.json.
#   4. NativeAOT publish of the same bench (x86-64-v4) and the same run → results-aot.json (BENCH_AOT=0 skips).
#   5. NativeAOT publish of `aotvit` (and libaotvit.so when src/Native exists) for the binary-size table (BENCH_SIZES=0 skips).
#   6. Report: docs/BENCHMARKS.md, docs/bench/latency.svg, raw JSON copied to docs/bench/.
# Knobs: BENCH_NOTE="text" (a paragraph added under "Machine"), BENCH_REPORT_ONLY=1 (only step 6, from the JSON already in artifacts/bench), BENCH_TORCH=0 (skip PyTorch), BENCH_SECONDS (per engine per config, default 3), BENCH_COLD_REPS (default 3), TORCH_RUNS (default 3), BENCH_MODELS (default all: every compiled model; or vit,mobilevit,NAME,...).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
ART=artifacts/bench
ONNX=$ART/onnx
PY=/usr/bin/python3
mkdir -p "$ART" docs/bench
say() { echo "== bench.sh: $*"; }

have_torch=0
if [ -x "$PY" ] && "$PY" -c "import torch, numpy, PIL" 2>/dev/null; then have_torch=1; fi

AOTJSON=(); SIZES=()
if [ "${BENCH_REPORT_ONLY:-0}" != 1 ]; then
# 1. ONNX files (only ORT needs them; the bench skips ORT cleanly without them)
if [ -f "$ONNX/vit-base-patch32-224-in21k.onnx" ] && [ -f "$ONNX/mobilevit-small.onnx" ] && [ "${BENCH_EXPORT:-0}" != 1 ]; then
  say "ONNX files present in $ONNX (BENCH_EXPORT=1 re-exports)"
elif [ $have_torch = 1 ]; then
  say "exporting ONNX (tools/reference.py --export-onnx $ONNX)"
  "$PY" tools/reference.py --export-onnx "$ONNX" 2>&1 | grep -v TracerWarning | grep -v "if nh \* ph" || true
else
  say "no $PY with torch: ONNX export skipped, ORT will be skipped (apt-get install python3-torch python3-numpy python3-pil)"
fi

# 1b. ONNX files of the other compiled models (tools/reference_family.py builds each from its folder's config.json)
FAMILY=()
for dir in src/Graphs/*/; do
  m=$(basename "$dir")
  case "$m" in vit-base-patch32-224-in21k|mobilevit-small) ;; *) [ -f "$ONNX/$m.onnx" ] && [ "${BENCH_EXPORT:-0}" != 1 ] || FAMILY+=("$m") ;; esac
done
if [ ${#FAMILY[@]} -gt 0 ] && [ $have_torch = 1 ]; then
  say "exporting ONNX (tools/reference_family.py --models $(IFS=,; echo "${FAMILY[*]}") --export-onnx $ONNX)"
  "$PY" tools/reference_family.py --models "$(IFS=,; echo "${FAMILY[*]}")" --export-onnx "$ONNX" 2>&1 | grep -v TracerWarning | grep -v "if nh \* ph" || true
fi

# 2. PyTorch eager (slow with Debian's torch: kept in docs/bench/torch.json between runs)
if [ "${BENCH_TORCH:-}" = 0 ]; then
  say "BENCH_TORCH=0: PyTorch bench not run"
elif [ $have_torch = 1 ] && { [ ! -f docs/bench/torch.json ] || [ "${BENCH_TORCH:-0}" = 1 ]; }; then
  say "PyTorch eager bench (tools/reference.py --bench-torch)"
  "$PY" tools/reference.py --bench-torch --bench-runs "${TORCH_RUNS:-3}" --json docs/bench/torch.json
elif [ -f docs/bench/torch.json ]; then
  say "reusing docs/bench/torch.json (BENCH_TORCH=1 reruns PyTorch)"
else
  say "no torch: the PyTorch column is left out"
fi

RUNARGS=(--models "${BENCH_MODELS:-all}" --cache "$ART" --onnx-dir "$ONNX" --seconds "${BENCH_SECONDS:-3}" --cold-reps "${BENCH_COLD_REPS:-3}")

# 3. JIT
say "building bench/AotVit.Bench (Release, JIT)"
dotnet build bench/AotVit.Bench -c Release -v q -nologo
JITDIR=bench/AotVit.Bench/bin/Release/net10.0/linux-x64
say "load average before the JIT run: $(cut -d' ' -f1-3 /proc/loadavg)"
"$JITDIR/AotVit.Bench" "${RUNARGS[@]}" --json "$ART/results-jit.json" | tee "$ART/run-jit.log"

# 4. NativeAOT (-p:SelfContained=true: with the projects' SelfContained=false, SDK 10.0.401's publish stops with NETSDK1102)
rm -f "$ART/results-aot.json"
if [ "${BENCH_AOT:-1}" != 0 ]; then
  say "publishing bench/AotVit.Bench with NativeAOT (x86-64-v4)"
  if dotnet publish bench/AotVit.Bench -c Release -v q -nologo -p:SelfContained=true -o "$ART/aot"; then
    rm -f "$ART/aot/onnxruntime.dll" "$ART/aot/onnxruntime_providers_shared.dll"   # linux-x64 publish copies the Windows DLLs too
    "$ART/aot/AotVit.Bench" "${RUNARGS[@]}" --json "$ART/results-aot.json" | tee "$ART/run-aot.log"
    AOTJSON=(--aot "$ART/results-aot.json")
  else
    say "NativeAOT publish failed: NativeAOT rows left out"
  fi
fi

# 5. binary sizes
if [ "${BENCH_SIZES:-1}" != 0 ]; then
  say "publishing aotvit (NativeAOT) for the size table"
  dotnet publish src/Cli -c Release -v q -nologo -p:SelfContained=true -o "$ART/cli" >/dev/null && SIZES+=(--size "aotvit (NativeAOT CLI, x86-64-v4)=$ART/cli/aotvit")
  if [ -f src/Native/AotVit.Native.csproj ]; then
    dotnet publish src/Native -c Release -v q -nologo -p:SelfContained=true -o "$ART/native" >/dev/null && SIZES+=(--size "libaotvit.so (NativeAOT C ABI)=$ART/native/libaotvit.so")
  fi
fi
[ -f "$ART/aot/AotVit.Bench" ] && SIZES+=(--size "AotVit.Bench (NativeAOT: aot-vit + ORT managed wrapper)=$ART/aot/AotVit.Bench")
SIZES+=(--size "libonnxruntime.so 1.31.1 (ORT native, needed by ORT)=$JITDIR/libonnxruntime.so")
printf '%s\n' "${SIZES[@]}" > "$ART/sizes.txt"

fi # BENCH_REPORT_ONLY
JITDIR=bench/AotVit.Bench/bin/Release/net10.0/linux-x64
[ -x "$JITDIR/AotVit.Bench" ] || dotnet build bench/AotVit.Bench -c Release -v q -nologo
[ -f "$ART/results-aot.json" ] && AOTJSON=(--aot "$ART/results-aot.json")
[ -f "$ART/sizes.txt" ] && [ ${#SIZES[@]} -eq 0 ] && mapfile -t SIZES < "$ART/sizes.txt"

# 6. report
TORCHJSON=(); [ -f docs/bench/torch.json ] && TORCHJSON=(--torch docs/bench/torch.json)
cp "$ART/results-jit.json" docs/bench/results-jit.json
[ ${#AOTJSON[@]} -gt 0 ] && cp "$ART/results-aot.json" docs/bench/results-aot.json
"$JITDIR/AotVit.Bench" --report --jit "$ART/results-jit.json" "${AOTJSON[@]}" "${TORCHJSON[@]}" "${SIZES[@]}" \
  ${BENCH_NOTE:+--note "$BENCH_NOTE"} --md docs/BENCHMARKS.md --svg docs/bench/latency.svg
say "done: docs/BENCHMARKS.md, docs/bench/latency.svg"
