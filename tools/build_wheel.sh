#!/usr/bin/env bash
# build_wheel.sh: builds the installable Python package, artifacts/wheel/aotvit-<version>-py3-none-<platform>.whl,
# with libaotvit.so inside (python/aotvit/_lib): the x86-64-v4 (AVX-512) build and, unless --no-v3, the x86-64-v3
# (AVX2) build; the package picks one at import from the CPU flags (python/aotvit/_native.py).
#
#   tools/build_wheel.sh            publish both libraries (dotnet publish src/Native), then build the wheel
#   tools/build_wheel.sh --reuse    use libraries already published (artifacts/native by native_check.sh,
#                                   artifacts/dist/libaotvit-x86-64-v3.so by publish.sh/isa_check.sh); publish
#                                   only what is missing
#   tools/build_wheel.sh --no-v3    ship the v4 library only (the wheel then needs an AVX-512 CPU)
#
# The platform tag is manylinux_2_<N>_x86_64, where 2.<N> is the newest GLIBC_ symbol version the libraries import
# (objdump -T): pip then refuses the wheel on a system whose glibc is older than what the library needs.
# Needs: dotnet SDK (for publishing), binutils (objdump, readelf), /usr/bin/python3 with setuptools and wheel
# (Debian python3-setuptools python3-wheel). Offline: no pip, no build isolation, no downloads.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REUSE=0; V3=1
for arg in "$@"; do
  case "$arg" in
    --reuse) REUSE=1 ;;
    --no-v3) V3=0 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "build_wheel.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done
PY=/usr/bin/python3
for tool in objdump readelf; do
  command -v "$tool" >/dev/null || { echo "build_wheel.sh: $tool not found (apt-get install binutils)" >&2; exit 2; }
done
"$PY" -c "import setuptools, wheel" 2>/dev/null \
  || { echo "build_wheel.sh: $PY lacks setuptools/wheel (apt-get install python3-setuptools python3-wheel)" >&2; exit 2; }

V4_LIB=$ROOT/artifacts/native/libaotvit.so
V3_LIB=$ROOT/artifacts/native-v3/libaotvit.so
if [[ $REUSE == 0 || ! -f $V4_LIB ]]; then
  echo "== dotnet publish src/Native (x86-64-v4)"
  dotnet publish src/Native -c Release -o "$ROOT/artifacts/native" -nologo -v:q
fi
if [[ $V3 == 1 ]]; then
  # isa_check.sh (via publish.sh) leaves a v3 build in artifacts/dist; reuse it rather than compile again.
  if [[ $REUSE == 1 && ! -f $V3_LIB && -f $ROOT/artifacts/dist/libaotvit-x86-64-v3.so ]]; then
    V3_LIB=$ROOT/artifacts/dist/libaotvit-x86-64-v3.so
  fi
  if [[ $REUSE == 0 || ! -f $V3_LIB ]]; then
    echo "== dotnet publish src/Native (x86-64-v3)"
    # Its own intermediate directory, so the v4 build's ILC output is not reused (as native_check.sh --v3).
    dotnet publish src/Native -c Release -o "$ROOT/artifacts/native-v3" -p:AotVitIsa=x86-64-v3 \
      -p:IntermediateOutputPath="$ROOT/artifacts/obj-native-v3/" -nologo -v:q
    V3_LIB=$ROOT/artifacts/native-v3/libaotvit.so
  fi
fi

LIBS=("$V4_LIB"); [[ $V3 == 1 ]] && LIBS+=("$V3_LIB")
echo "== libraries"
glibc_minor=0
for lib in "${LIBS[@]}"; do
  # Only C runtime libraries may be needed: the wheel ships nothing else.
  needed=$(readelf -d "$lib" | sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p' | tr '\n' ' ')
  for n in $needed; do
    case "$n" in
      libc.so.6|libm.so.6|libdl.so.2|libpthread.so.0|librt.so.1|ld-linux-x86-64.so.2) ;;
      *) echo "build_wheel.sh: $lib needs $n, which a manylinux wheel cannot assume" >&2; exit 1 ;;
    esac
  done
  minor=$(objdump -T "$lib" | grep -oE 'GLIBC_2\.[0-9]+' | sed 's/GLIBC_2\.//' | sort -n | tail -1)
  [[ -n $minor ]] || { echo "build_wheel.sh: no GLIBC_ symbol versions in $lib" >&2; exit 1; }
  floor=$(objdump -T "$lib" | awk -v v="(GLIBC_2.$minor)" 'NF > 1 && $(NF-1) == v && n++ < 3 {print $NF}' | tr '\n' ' ')
  printf '  %s: %d bytes, needs %s\n    newest glibc symbol version GLIBC_2.%s (%s...)\n' "${lib#$ROOT/}" \
    "$(stat -c %s "$lib")" "$needed" "$minor" "$floor"
  (( minor > glibc_minor )) && glibc_minor=$minor
done
PLATFORM=manylinux_2_${glibc_minor}_x86_64
echo "  platform tag: $PLATFORM"

STAGE=$ROOT/artifacts/python-build
rm -rf "$STAGE" && mkdir -p "$STAGE" "$ROOT/artifacts/wheel"
cp -r python/aotvit python/pyproject.toml python/setup.py python/README.md "$STAGE/"
find "$STAGE" -name __pycache__ -prune -exec rm -rf {} +
mkdir -p "$STAGE/aotvit/_lib" "$STAGE/aotvit/include"
cp "$V4_LIB" "$STAGE/aotvit/_lib/libaotvit-x86-64-v4.so"
[[ $V3 == 1 ]] && cp "$V3_LIB" "$STAGE/aotvit/_lib/libaotvit-x86-64-v3.so"
cp src/Native/include/aotvit.h "$STAGE/aotvit/include/"
version=$(sed -nE 's/^version = "(.*)"/\1/p' python/pyproject.toml)
rm -f "$ROOT/artifacts/wheel/aotvit-$version-"*.whl
echo "== wheel"
(cd "$STAGE" && AOTVIT_WHEEL_PLATFORM=$PLATFORM "$PY" setup.py -q bdist_wheel -d "$ROOT/artifacts/wheel" \
  >"$STAGE/bdist_wheel.log" 2>&1) || { cat "$STAGE/bdist_wheel.log" >&2; exit 1; }
WHEEL=$ROOT/artifacts/wheel/aotvit-$version-py3-none-$PLATFORM.whl
[[ -f $WHEEL ]] || { echo "build_wheel.sh: expected $WHEEL, got: $(ls "$ROOT/artifacts/wheel")" >&2; exit 1; }
"$PY" - "$WHEEL" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        if info.filename.endswith((".so", ".py", ".h", "WHEEL")):
            print(f"  {info.file_size:10d}  {info.filename}")
PY
echo "$WHEEL" | tee "$ROOT/artifacts/wheel/latest.txt"
