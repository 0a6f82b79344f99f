#!/usr/bin/env bash
# The project's test command (README, .ci/run): builds everything, runs the whole xunit suite on the
# machine's widest SIMD path, then again with AVX-512 off (Vector256), AVX2 off (Vector128) and all
# hardware intrinsics off (scalar; fuzz category excluded), so every kernel's fallback path is exercised;
# then the native library + samples check and the shipped-binaries ISA check. Prints one closing
# line "N passed, N failed" over all runs.
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
passed=0; failed=0; status=0

dotnet build aot-vit.sln -c Release -v q -nologo || exit 1

run() { # name, env..., -- filter
  local name=$1; shift
  local envs=(); while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  local filter=$1
  echo "=== tests: $name ${envs[*]:-} ${filter:+(filter: $filter)}"
  local log; log=$(mktemp)
  env "${envs[@]}" dotnet test tests/AotVit.Tests -c Release --no-build -nologo ${filter:+--filter "$filter"} 2>&1 | tee "$log" | grep -E "^\s*(Failed |Passed!|Failed!)|error" || true
  local line; line=$(grep -E "(Passed|Failed)!" "$log" | tail -1)
  local p f
  p=$(sed -nE 's/.*Passed: *([0-9]+).*/\1/p' <<<"$line"); f=$(sed -nE 's/.*Failed: *([0-9]+),.*/\1/p' <<<"$line")
  if [ -z "$p" ]; then echo "no test summary for $name"; status=1; f=${f:-1}; fi
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  [ "${f:-0}" = 0 ] || status=1
  rm -f "$log"
}

run "full suite, widest SIMD" DOTNET_TieredPGO=1 -- ""
run "AVX-512 off (Vector256)" DOTNET_EnableAVX512=0 DOTNET_EnableAVX512F=0 -- ""
run "AVX2 off (Vector128)" DOTNET_EnableAVX2=0 -- ""
# Scalar: everything but the time-bounded fuzz runs (their per-input watchdogs assume SIMD speed).
run "no hardware intrinsics (scalar)" DOTNET_EnableHWIntrinsic=0 -- "Category!=Fuzz"

if [ -x tools/native_check.sh ] && [ "${AOTVIT_SKIP_NATIVE:-0}" != 1 ]; then
  echo "=== native library and samples (tools/native_check.sh)"
  if bash tools/native_check.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
fi

if [ "${AOTVIT_SKIP_ISA:-0}" != 1 ]; then
  echo "=== shipped binaries: v4/v3 builds, CPUID launcher, emulated CPU without AVX-512 (tools/isa_check.sh)"
  if bash tools/isa_check.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
fi

echo "$passed passed, $failed failed"
exit $status
