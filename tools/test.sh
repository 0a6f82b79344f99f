#!/usr/bin/env bash
# The project's test command (README, .ci/run): builds everything, runs the whole xunit suite on the
# machine's widest SIMD path, the fuzz targets once, then the kernel-executing tests again with AVX-512 off
# (Vector256), AVX2 off (Vector128) and all hardware intrinsics off (scalar), so every kernel's fallback path is exercised;
# then the native library + samples check, the shipped-binaries ISA check (with `aotvit selftest` of both x64 builds),
# the Python package check and the linux-arm64 cross build under qemu. Prints one closing
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

# The whole suite once on the widest path; fuzzing in a pass of its own, once. The narrower SIMD paths rerun what
# executes kernels (kernels, imaging, weights, models and the reference checks), not the CLI, C ABI or generator tests,
# whose SIMD work is the same kernels.
simd='(FullyQualifiedName~AotVit.Tests.Kernels|FullyQualifiedName~AotVit.Tests.Imaging|FullyQualifiedName~AotVit.Tests.Weights|FullyQualifiedName~AotVit.Tests.Models|FullyQualifiedName~AotVit.Tests.Reference|FullyQualifiedName~AotVit.Tests.Concurrency)&Category!=Fuzz&Category!=Int8Accuracy'
run "full suite, widest SIMD" DOTNET_TieredPGO=1 -- "Category!=Fuzz"
run "fuzz (time-bounded runs, widest SIMD)" DOTNET_TieredPGO=1 -- "Category=Fuzz"
run "AVX-512 off (Vector256)" DOTNET_EnableAVX512=0 DOTNET_EnableAVX512F=0 -- "$simd"
run "AVX2 off (Vector128)" DOTNET_EnableAVX2=0 -- "$simd"
run "no hardware intrinsics (scalar)" DOTNET_EnableHWIntrinsic=0 -- "$simd"

if [ -x tools/native_check.sh ] && [ "${AOTVIT_SKIP_NATIVE:-0}" != 1 ]; then
  echo "=== native library and samples (tools/native_check.sh)"
  if bash tools/native_check.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
fi

if [ "${AOTVIT_SKIP_ISA:-0}" != 1 ]; then
  echo "=== shipped binaries: v4/v3 builds, CPUID launcher, emulated CPU without AVX-512 (tools/isa_check.sh)"
  if bash tools/isa_check.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
fi

if [ "${AOTVIT_SKIP_PYTHON:-0}" != 1 ]; then
  # After native_check.sh and isa_check.sh: reuses their libraries (artifacts/native, artifacts/dist) and C# dumps.
  echo "=== Python package: wheel, fresh venv, pytest, Dask LocalCluster (tools/python_check.sh)"
  bash tools/python_check.sh; rc=$?
  case $rc in
    0) passed=$((passed + 1)) ;;
    77) echo "(python check not counted: skipped)" ;;  # a missing Debian package; the reason is printed above
    *) failed=$((failed + 1)); status=1 ;;
  esac
fi

if [ "${AOTVIT_SKIP_ARM64:-0}" != 1 ]; then
  # Cross-compiled aotvit + libaotvit.so (tools/publish.sh --arm64), then under qemu-aarch64: selftest --kernels, one
  # golden image (chelsea) per compiled model (all six), the C classify sample (about 6.5 minutes here with the
  # publish, ViT-B/16 alone ≈ 3 of them: docs/notes/2026-12-07-arm64.md). The
  # toolchain comes from tools/arm64_toolchain.sh (.ci/run installs it); without it the check is skipped, not counted.
  echo "=== linux-arm64: cross build, checked under qemu-aarch64 (tools/arm64_check.sh --quick)"
  if missing=$(bash tools/arm64_toolchain.sh --check 2>&1); then
    if bash tools/arm64_check.sh --quick; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
  else
    echo "arm64 check skipped: $missing"
  fi
fi

echo "$passed passed, $failed failed"
exit $status
