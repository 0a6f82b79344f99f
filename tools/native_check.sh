#!/usr/bin/env bash
# native_check.sh: publishes libaotvit.so, builds and runs the C, Python and C# samples on chelsea.png with the
# synthetic checkpoint, and checks that every path through the C ABI gives the managed API's outputs bit for bit
# (and that an int8 handle opens through aotvit_model_open_ex and reports its deviation: samples/c/int8.c).
#
#   tools/native_check.sh            publish (x86-64-v4), samples, bit-exact comparisons, checkpoint file, stress test
#   tools/native_check.sh --no-publish   reuse artifacts/native
#   tools/native_check.sh --v3       also publish the x86-64-v3 (AVX2) build and compare it within a tolerance
#
# Needs: dotnet SDK, gcc, make, /usr/bin/python3 (with numpy) and python3 (numpy optional: the list fallback is
# forced with AOTVIT_NO_NUMPY=1 anyway). Everything goes under artifacts/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PUBLISH=1; V3=0
for arg in "$@"; do
  case "$arg" in
    --no-publish) PUBLISH=0 ;;
    --v3) V3=1 ;;
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done

NATIVE=$ROOT/artifacts/native
OUT=$ROOT/artifacts/native-check
IMAGE=$ROOT/tests/AotVit.Tests/data/images/chelsea.png
SAMPLE=$ROOT/artifacts/samples-csharp/AotVitSample
mkdir -p "$OUT"
step() { printf '\n== %s\n' "$*"; }
same() { # same <reference> <candidate> <what>
  if cmp -s "$1" "$2"; then echo "  bit-identical: $3"; else echo "  DIFFERENT: $3 ($1 vs $2)"; exit 1; fi
}

if [[ $PUBLISH == 1 ]]; then
  step "publish libaotvit.so (x86-64-v4)"
  dotnet publish src/Native -c Release -o "$NATIVE" -nologo -v:q
fi
ls -l "$NATIVE/libaotvit.so"

step "build samples (C, C#)"
make -s -C samples/c NATIVE="$NATIVE" OUT="$ROOT/artifacts/samples-c"
dotnet build samples/csharp -c Release -o "$ROOT/artifacts/samples-csharp" -nologo -v:q

step "managed API (reference)"
"$SAMPLE" classify - "$IMAGE" --dump "$OUT/managed.cls.f32"
"$SAMPLE" embed - "$IMAGE" --dump "$OUT/managed.emb.f32"

step "C samples"
"$ROOT/artifacts/samples-c/classify" - "$IMAGE" --dump "$OUT/c.cls.f32"
"$ROOT/artifacts/samples-c/embed" - "$IMAGE" --dump "$OUT/c.emb.f32"
same "$OUT/managed.cls.f32" "$OUT/c.cls.f32" "C classify == managed"
same "$OUT/managed.emb.f32" "$OUT/c.emb.f32" "C embed == managed"

step "Python sample, numpy (/usr/bin/python3)"
AOTVIT_LIBRARY="$NATIVE/libaotvit.so" /usr/bin/python3 samples/python/example.py "$IMAGE" --dump-prefix "$OUT/py-numpy"
same "$OUT/managed.cls.f32" "$OUT/py-numpy.cls.f32" "Python (numpy) classify == managed"
same "$OUT/managed.emb.f32" "$OUT/py-numpy.emb.f32" "Python (numpy) embed == managed"

step "Python sample, lists (python3, AOTVIT_NO_NUMPY=1)"
AOTVIT_NO_NUMPY=1 AOTVIT_LIBRARY="$NATIVE/libaotvit.so" python3 samples/python/example.py "$IMAGE" --dump-prefix "$OUT/py-list"
same "$OUT/managed.cls.f32" "$OUT/py-list.cls.f32" "Python (lists) classify == managed"
same "$OUT/managed.emb.f32" "$OUT/py-list.emb.f32" "Python (lists) embed == managed"

step "checkpoint file (MobileViT synthetic weights written by samples/csharp make-weights)"
"$SAMPLE" make-weights mobilevit-small "$OUT/mobilevit-synthetic.safetensors"
"$ROOT/artifacts/samples-c/classify" "$OUT/mobilevit-synthetic.safetensors" "$IMAGE" --dump "$OUT/c-file.cls.f32" > /dev/null
same "$OUT/managed.cls.f32" "$OUT/c-file.cls.f32" "C classify from a checkpoint file == managed synthetic"

step "int8 through aotvit_model_open_ex (MobileViT-XXS, synthetic weights, one calibration image)"
"$ROOT/artifacts/samples-c/int8" - "$IMAGE" "$IMAGE"

step "stress: 8 pthreads, shared handle / own handles / concurrent misuse"
"$ROOT/artifacts/samples-c/stress" "$IMAGE" 8

if [[ $V3 == 1 ]]; then
  step "x86-64-v3 (AVX2) build"
  # Its own intermediate directory, so the v4 build's ILC output is not reused.
  dotnet publish src/Native -c Release -o "$ROOT/artifacts/native-v3" -p:AotVitIsa=x86-64-v3 \
    -p:IntermediateOutputPath="$ROOT/artifacts/obj-native-v3/" -nologo -v:q
  ls -l "$ROOT/artifacts/native-v3/libaotvit.so"
  # The C samples use DT_RUNPATH, so LD_LIBRARY_PATH takes precedence: same binaries, other library.
  LD_LIBRARY_PATH="$ROOT/artifacts/native-v3" "$ROOT/artifacts/samples-c/classify" - "$IMAGE" --dump "$OUT/v3.cls.f32"
  LD_LIBRARY_PATH="$ROOT/artifacts/native-v3" "$ROOT/artifacts/samples-c/embed" - "$IMAGE" --dump "$OUT/v3.emb.f32"
  python3 - "$OUT" <<'PY'
import array, sys
out = sys.argv[1]
def load(name):
    a = array.array("f")
    with open(f"{out}/{name}", "rb") as f:
        a.frombytes(f.read())
    return a
ok = True
for kind, tolerance in (("cls", 1e-4), ("emb", 1e-3)):
    ref, v3 = load(f"managed.{kind}.f32"), load(f"v3.{kind}.f32")
    diff = max(abs(a - b) for a, b in zip(ref, v3))
    scale = max(abs(a) for a in ref)
    good = len(ref) == len(v3) and diff <= tolerance * max(1.0, scale)
    ok &= good
    print(f"  v3 vs v4 {kind}: max |diff| = {diff:.3g} (max |value| {scale:.3g}, tolerance {tolerance} x max(1, |value|)): {'ok' if good else 'TOO LARGE'}")
sys.exit(0 if ok else 1)
PY
fi

echo
echo "native_check: all checks passed"
