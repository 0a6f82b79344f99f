#!/usr/bin/env bash
# python_check.sh: builds the aotvit wheel (tools/build_wheel.sh --reuse), installs it offline into a fresh venv
# (--system-site-packages, so Debian's numpy, Pillow, pytest and dask are visible) and runs python/tests with that
# venv's interpreter: every input kind, output names and shapes, errors, the Dask LocalCluster run, and parity bit
# for bit with the managed C# API (samples/csharp dumps, made by native_check.sh or here if missing).
#
#   tools/python_check.sh               reuse published libraries where present (CI: native_check.sh ran first)
#   tools/python_check.sh --publish     publish the libraries again first
#   extra arguments after -- go to pytest (e.g. -- -k dask -x)
#
# Exit status: 0 passed, 1 failed, 77 skipped (a prerequisite is missing; the reason is printed as
# "python check skipped: <reason>"; tools/test.sh counts that as neither passed nor failed).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=/usr/bin/python3
BUILD_ARGS=(--reuse); PYTEST_ARGS=()
while (($#)); do
  case "$1" in
    --publish) BUILD_ARGS=() ;;
    --) shift; PYTEST_ARGS=("$@"); break ;;
    *) echo "python_check.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
skip() { echo "python check skipped: $*"; exit 77; }
[[ -x $PY ]] || skip "$PY not found"
for module in numpy PIL pytest setuptools wheel dask.bag distributed; do
  "$PY" -c "import $module" 2>/dev/null || skip "$PY cannot import $module (apt-get install python3-numpy python3-pil python3-pytest python3-setuptools python3-wheel python3-dask python3-distributed)"
done
"$PY" -c "import ensurepip" 2>/dev/null || skip "no venv/ensurepip (apt-get install python3-venv)"
command -v objdump >/dev/null || skip "objdump not found (apt-get install binutils)"

start=$(date +%s)
set -e
# CI time: with --reuse, ship the v3 library only if one is already built (isa_check.sh leaves it in artifacts/dist);
# compiling it here would take minutes. Without it the v3 test is skipped, and says so.
if [[ ${BUILD_ARGS[*]:-} == --reuse && ! -f artifacts/native-v3/libaotvit.so && ! -f artifacts/dist/libaotvit-x86-64-v3.so ]]; then
  echo "python_check: no x86-64-v3 library built yet; the wheel ships the v4 build only"
  BUILD_ARGS+=(--no-v3)
fi
bash tools/build_wheel.sh "${BUILD_ARGS[@]}"
WHEEL=$(cat "$ROOT/artifacts/wheel/latest.txt")  # written by build_wheel.sh

# C# reference outputs for the parity tests: native_check.sh leaves them in artifacts/native-check, an earlier run
# of this script in artifacts/python-check/reference. Dumps older than the library are made again (a stale pair
# could hide a difference).
fresh() { [[ -f $1/managed.cls.f32 && -f $1/managed.emb.f32 && $1/managed.cls.f32 -nt $ROOT/artifacts/native/libaotvit.so ]]; }
REF=$ROOT/artifacts/native-check
fresh "$REF" || REF=$ROOT/artifacts/python-check/reference
if ! fresh "$REF"; then
  echo "== C# reference outputs (samples/csharp, synthetic weights, chelsea.png)"
  mkdir -p "$REF"
  dotnet build samples/csharp -c Release -o "$ROOT/artifacts/samples-csharp" -nologo -v:q
  IMAGE=$ROOT/tests/AotVit.Tests/data/images/chelsea.png
  "$ROOT/artifacts/samples-csharp/AotVitSample" classify - "$IMAGE" --dump "$REF/managed.cls.f32" >/dev/null
  "$ROOT/artifacts/samples-csharp/AotVitSample" embed - "$IMAGE" --dump "$REF/managed.emb.f32" >/dev/null
fi
# The synthetic MobileViT-XXS checkpoint as a file, for the weights tests (file, folder, Hugging Face cache layout).
if [[ ! -f $REF/mobilevit-xx-small.safetensors || $ROOT/artifacts/native/libaotvit.so -nt $REF/mobilevit-xx-small.safetensors ]]; then
  [[ -x $ROOT/artifacts/samples-csharp/AotVitSample ]] \
    || dotnet build samples/csharp -c Release -o "$ROOT/artifacts/samples-csharp" -nologo -v:q
  "$ROOT/artifacts/samples-csharp/AotVitSample" make-weights mobilevit-xx-small "$REF/mobilevit-xx-small.safetensors"
fi

echo "== fresh venv, pip install --no-index --no-deps $(basename "$WHEEL")"
VENV=$ROOT/artifacts/python-venv
rm -rf "$VENV"
"$PY" -m venv --system-site-packages "$VENV"
"$VENV/bin/python" -m pip install -q --no-index --no-deps --disable-pip-version-check "$WHEEL"

echo "== pytest (python/tests, with the venv's interpreter)"
# Run from artifacts/ so that neither the repository root nor python/ is on sys.path: tests import the installed copy.
cd "$ROOT/artifacts"
set +e
AOTVIT_WHEEL=$WHEEL AOTVIT_REFERENCE_DIR=$REF "$VENV/bin/python" -m pytest -q -p no:cacheprovider \
  "$ROOT/python/tests" "${PYTEST_ARGS[@]}"
rc=$?
echo "python_check: pytest exit $rc, $(( $(date +%s) - start )) s in all"
[[ $rc == 0 ]] && exit 0 || exit 1
