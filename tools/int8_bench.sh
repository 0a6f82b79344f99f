#!/usr/bin/env bash
# int8 vs float32, aot-vit and ONNX Runtime in the same run (issue 20) -> docs/bench/int8.md + docs/bench/int8.json.
# Steps (idempotent):
#   1. ONNX export of the seed models (seed-0 synthetic weights) into artifacts/bench/onnx if missing (/usr/bin/python3 + torch),
#      as tools/bench.sh does; other compiled models via tools/reference_family.py when INT8_MODELS names them.
#   2. tools/onnx_quantize.py --dir: <model>.int8.onnx (ORT quantize_dynamic's defaults: MatMul -> MatMulInteger,
#      Conv -> ConvInteger) and <model>.int8-matmul.onnx (op_types_to_quantize=["MatMul"]); needs python3-onnx
#      (Debian: apt-get install python3-onnx). Without it the ORT int8 engines are reported as absent.
#   3. bench/AotVit.Bench in Release, JIT (INT8_AOT=1: the NativeAOT x86-64-v4 publish of bench.sh instead).
#   4. AotVit.Bench --int8: per model x threads, aot-vit fp32 / aot-vit int8 / ORT fp32 / ORT int8 MatMul-only / ORT int8
#      interleaved at each batch; deviations against aot-vit fp32 on the golden images; writes the page.
# Knobs: INT8_MODELS (default vit,mobilevit), INT8_THREADS (1,2), INT8_BATCH (1,8), INT8_SECONDS (per engine per config, 2),
#        INT8_REQUANTIZE=1 (rewrite the .int8 files even if present), INT8_CHECK=1 (also tools/onnx_int8_check.py, ~2 min),
#        INT8_NOTE="text" (a paragraph under "Machine").
# CI does not run this (it needs torch and python3-onnx); tools/test.sh is unaffected.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
ART=artifacts/bench
ONNX=$ART/onnx
PY=/usr/bin/python3
MODELS=${INT8_MODELS:-vit,mobilevit}
mkdir -p "$ART" "$ONNX" docs/bench
say() { echo "== int8_bench.sh: $*"; }

have_torch=0; have_onnx=0
if [ -x "$PY" ] && "$PY" -c "import torch, numpy, PIL" 2>/dev/null; then have_torch=1; fi
if [ -x "$PY" ] && "$PY" -c "import onnx, numpy" 2>/dev/null; then have_onnx=1; fi

# 1. float32 ONNX
if [ -f "$ONNX/vit-base-patch32-224-in21k.onnx" ] && [ -f "$ONNX/mobilevit-small.onnx" ]; then
  say "seed-model ONNX files present in $ONNX"
elif [ $have_torch = 1 ]; then
  say "exporting ONNX (tools/reference.py --export-onnx $ONNX)"
  "$PY" tools/reference.py --export-onnx "$ONNX" 2>&1 | grep -v TracerWarning | grep -v "if nh \* ph" || true
else
  say "no $PY with torch: no ONNX export, the ORT engines will be reported absent"
fi
FAMILY=()
for m in ${MODELS//,/ }; do
  case "$m" in vit|mobilevit|vit-base-patch32-224-in21k|mobilevit-small|all) ;; *) [ -f "$ONNX/$m.onnx" ] || FAMILY+=("$m") ;; esac
done
if [ ${#FAMILY[@]} -gt 0 ] && [ $have_torch = 1 ]; then
  say "exporting ONNX (tools/reference_family.py --models $(IFS=,; echo "${FAMILY[*]}"))"
  "$PY" tools/reference_family.py --models "$(IFS=,; echo "${FAMILY[*]}")" --export-onnx "$ONNX" 2>&1 | grep -v TracerWarning | grep -v "if nh \* ph" || true
fi

# 2. int8 ONNX (both variants for every float32 file in the folder)
if [ $have_onnx = 1 ]; then
  for f in "$ONNX"/*.onnx; do
    case "$f" in *.int8.onnx|*.int8-matmul.onnx) continue ;; esac
    b=${f%.onnx}
    if [ "${INT8_REQUANTIZE:-0}" = 1 ] || [ ! -f "$b.int8.onnx" ] || [ "$f" -nt "$b.int8.onnx" ]; then
      "$PY" tools/onnx_quantize.py "$f" "$b.int8.onnx"
    fi
    if [ "${INT8_REQUANTIZE:-0}" = 1 ] || [ ! -f "$b.int8-matmul.onnx" ] || [ "$f" -nt "$b.int8-matmul.onnx" ]; then
      "$PY" tools/onnx_quantize.py --op-types MatMul "$f" "$b.int8-matmul.onnx"
    fi
  done
else
  say "no python3-onnx (apt-get install python3-onnx): int8 ONNX files not made, ORT int8 reported absent"
fi
if [ "${INT8_CHECK:-0}" = 1 ] && [ $have_torch = 1 ] && [ $have_onnx = 1 ]; then
  say "numpy/torch simulation of the MatMul rewrite against the float32 goldens (tools/onnx_int8_check.py)"
  "$PY" tools/onnx_int8_check.py
fi

# 3. build
if [ "${INT8_AOT:-0}" = 1 ]; then
  say "publishing bench/AotVit.Bench with NativeAOT (x86-64-v4)"
  dotnet publish bench/AotVit.Bench -c Release -v q -nologo -p:SelfContained=true -o "$ART/aot"
  rm -f "$ART/aot/onnxruntime.dll" "$ART/aot/onnxruntime_providers_shared.dll"
  BIN=$ART/aot/AotVit.Bench
else
  say "building bench/AotVit.Bench (Release, JIT)"
  dotnet build bench/AotVit.Bench -c Release -v q -nologo
  BIN=bench/AotVit.Bench/bin/Release/net10.0/linux-x64/AotVit.Bench
fi

# 4. run + page
say "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
"$BIN" --int8 --models "$MODELS" --threads "${INT8_THREADS:-1,2}" --batch "${INT8_BATCH:-1,8}" --seconds "${INT8_SECONDS:-2}" \
  --cache "$ART" --onnx-dir "$ONNX" --images tests/AotVit.Tests/data/images \
  --json "$ART/int8.json" --md docs/bench/int8.md ${INT8_NOTE:+--note "$INT8_NOTE"} | tee "$ART/run-int8.log"
cp "$ART/int8.json" docs/bench/int8.json
say "done: docs/bench/int8.md, docs/bench/int8.json"
