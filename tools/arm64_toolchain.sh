#!/usr/bin/env bash
# Installs what NativeAOT needs to cross-compile linux-x64 → linux-arm64 on Debian, and qemu-user to run the result:
# clang (the compiler driver ILC links with, --target=aarch64-linux-gnu) + lld (the arm64 build's linker), Debian's arm64 multiarch sysroot
# (libc6-dev:arm64, zlib1g-dev:arm64, and libgcc-N-dev:arm64 for crtbeginS.o/libgcc, N = the host gcc's major version,
# without which the link fails with "cannot open crtbeginS.o") and binutils-aarch64-linux-gnu (objcopy for symbol
# stripping; the arm64 ld.bfd, the SDK's default linker). Idempotent: does nothing when all are present.
# Needs root (apt; waits up to 10 minutes for another apt/dpkg to release its lock).
#   tools/arm64_toolchain.sh --check   installs nothing: exit 1 (and the missing packages on stderr) when any is missing.
# Exit status: 0 when everything is installed afterwards, 1 otherwise (the reason on stderr).
set -uo pipefail
check_only=0
case "${1:-}" in
  --check) check_only=1 ;;
  "") ;;
  *) echo "arm64_toolchain.sh: unknown option '$1' (use --check)" >&2; exit 2 ;;
esac
gcc_major=$(gcc -dumpversion 2>/dev/null | cut -d. -f1); gcc_major=${gcc_major:-12}
need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in clang lld binutils-aarch64-linux-gnu libc6-dev:arm64 zlib1g-dev:arm64 "libgcc-$gcc_major-dev:arm64" qemu-user; do
  have_pkg "$p" || need+=("$p")
done
if [ ${#need[@]} -eq 0 ]; then echo "arm64 toolchain: present"; exit 0; fi
if [ $check_only = 1 ]; then echo "arm64 toolchain: missing ${need[*]} (tools/arm64_toolchain.sh installs them, as root)" >&2; exit 1; fi
if [ "$(id -u)" -ne 0 ]; then echo "arm64 toolchain: missing ${need[*]} and not root (apt-get needs root)" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64 || { echo "arm64 toolchain: dpkg --add-architecture arm64 failed" >&2; exit 1; }
fi
echo "arm64 toolchain: installing ${need[*]}"
apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null || { echo "arm64 toolchain: apt-get update failed" >&2; exit 1; }
apt-get -o DPkg::Lock::Timeout=600 install -y -q "${need[@]}" >/dev/null || { echo "arm64 toolchain: apt-get install ${need[*]} failed" >&2; exit 1; }
for p in "${need[@]}"; do have_pkg "$p" || { echo "arm64 toolchain: $p not installed after apt-get" >&2; exit 1; }; done
echo "arm64 toolchain: installed"
