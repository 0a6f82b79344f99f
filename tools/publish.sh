#!/usr/bin/env bash
# Publishes the shipped binaries into artifacts/dist:
#   aotvit               launcher (C, ~16 KB): runs the build matching the CPU (CPUID), AOTVIT_ISA=v3|v4 overrides
#   aotvit-x86-64-v4     NativeAOT CLI, AVX-512 kernels        aotvit-x86-64-v3   NativeAOT CLI, AVX2 kernels
#   libaotvit.so         NativeAOT C ABI library, x86-64-v4    libaotvit-x86-64-v3.so
#   include/aotvit.h
# and prints their sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=artifacts/dist
rm -rf "$out" && mkdir -p "$out/include"
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
echo "artifacts/dist:"
ls -l "$out" | awk 'NR>1 {printf "  %10d  %s\n", $5, $9}'
