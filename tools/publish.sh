#!/usr/bin/env bash
# Publishes the shipped binaries and prints their sizes.
#   tools/publish.sh            linux-x64, into artifacts/dist:
#     aotvit               launcher (C, ~16 KB): runs the build matching the CPU (CPUID), AOTVIT_ISA=v3|v4 overrides
#     aotvit-x86-64-v4     NativeAOT CLI, AVX-512 kernels        aotvit-x86-64-v3   NativeAOT CLI, AVX2 kernels
#     libaotvit.so         NativeAOT C ABI library, x86-64-v4    libaotvit-x86-64-v3.so
#     include/aotvit.h
#   tools/publish.sh --arm64    linux-arm64 (cross-compiled; tools/arm64_toolchain.sh installs what it needs), into
#                               artifacts/dist/linux-arm64: aotvit, libaotvit.so (armv8-a: AdvSimd kernels), include/aotvit.h
#   tools/publish.sh --all      both
# Sizes are of the published files, which NativeAOT already strips (StripSymbols; the symbols go to *.dbg, not shipped).
# Budget: every NativeAOT `aotvit` (x86-64-v4, x86-64-v3, linux-arm64) is at most 3,000,000 bytes; over it, this fails.
set -euo pipefail
cd "$(dirname "$0")/.."
x64=1; arm64=0
for arg in "$@"; do
  case "$arg" in
    --arm64) x64=0; arm64=1 ;;
    --all) x64=1; arm64=1 ;;
    *) echo "publish.sh: unknown option '$arg' (use --arm64 or --all)" >&2; exit 2 ;;
  esac
done
out=artifacts/dist
sizes() { echo "$1:"; find "$1" -maxdepth 1 -type f -printf '  %10s  %f\n' | sort -k2; }
limit=3000000
budget() { local size; size=$(stat -c %s "$1")
  [ "$size" -le $limit ] || { echo "publish.sh: $1 is $size bytes, over the $limit-byte budget" >&2; exit 1; }; }

if [ $x64 = 1 ]; then
  # Only the x64 files are replaced: an arm64 build in $out/linux-arm64 stays.
  mkdir -p "$out/include"
  rm -f "$out"/aotvit "$out"/aotvit-x86-64-* "$out"/libaotvit*.so
  for isa in x86-64-v4 x86-64-v3; do
    dotnet publish src/Cli -c Release -p:AotVitIsa=$isa -o artifacts/publish/cli-$isa -v q -nologo
    cp artifacts/publish/cli-$isa/aotvit "$out/aotvit-$isa"
    dotnet publish src/Native -c Release -p:AotVitIsa=$isa -o artifacts/publish/native-$isa -v q -nologo
  done
  cp artifacts/publish/native-x86-64-v4/libaotvit.so "$out/libaotvit.so"
  cp artifacts/publish/native-x86-64-v3/libaotvit.so "$out/libaotvit-x86-64-v3.so"
  cp src/Native/include/aotvit.h "$out/include/"
  cp tests/AotVit.Tests/data/images/chelsea.png "$out/"
  gcc -O2 -s -Wall -Wextra -o "$out/aotvit" src/Launcher/launcher.c
  sizes "$out"
  budget "$out/aotvit-x86-64-v4"; budget "$out/aotvit-x86-64-v3"
fi

if [ $arm64 = 1 ]; then
  # NativeAOT cross-compiles with the runtime.linux-arm64.Microsoft.DotNet.ILCompiler package (restored for -r
  # linux-arm64), clang --target=aarch64-linux-gnu + lld, and Debian's arm64 multiarch sysroot.
  for tool in clang ld.lld aarch64-linux-gnu-objcopy; do
    command -v $tool >/dev/null || { echo "publish.sh --arm64: '$tool' not found: run tools/arm64_toolchain.sh (as root)" >&2; exit 1; }
  done
  [ -e /usr/lib/aarch64-linux-gnu/libz.so ] && [ -e /usr/lib/aarch64-linux-gnu/crt1.o ] \
    || { echo "publish.sh --arm64: no arm64 sysroot (libc6-dev:arm64, zlib1g-dev:arm64): run tools/arm64_toolchain.sh (as root)" >&2; exit 1; }
  a=$out/linux-arm64
  rm -rf "$a" && mkdir -p "$a/include"
  dotnet publish src/Cli -c Release -r linux-arm64 -o artifacts/publish/cli-linux-arm64 -v q -nologo
  dotnet publish src/Native -c Release -r linux-arm64 -o artifacts/publish/native-linux-arm64 -v q -nologo
  cp artifacts/publish/cli-linux-arm64/aotvit "$a/aotvit"
  cp artifacts/publish/native-linux-arm64/libaotvit.so "$a/libaotvit.so"
  cp src/Native/include/aotvit.h "$a/include/"
  cp tests/AotVit.Tests/data/images/chelsea.png "$a/"
  sizes "$a"
  budget "$a/aotvit"
fi
