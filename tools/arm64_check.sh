#!/usr/bin/env bash
# arm64_check.sh: cross-compiles aotvit and libaotvit.so for linux-arm64 (tools/publish.sh --arm64) and runs them under
# qemu-aarch64 against the committed goldens (PyTorch float32, synthetic seed-0 checkpoints, tests/AotVit.Tests/data/golden):
#   1. `aotvit info` under qemu reports the NEON (Vector128) kernels;
#   2. pixel_values (`aotvit preprocess`) bit-identical to the goldens' for both seed models, every golden image;
#   3. ViT-B/32 `embed --json --full`: last_hidden_state and pooler_output within 5e-5 of the goldens;
#      MobileViT-S `classify --top 1000 --json`: 1000 logits within 5e-5, top-5 identical (one image and a batch of two);
#   4. the C samples (samples/c) cross-compiled with clang --target=aarch64-linux-gnu against the arm64 libaotvit.so,
#      run under qemu: classify and embed logits/features within 5e-5 of the goldens, and bit-identical to the arm64 CLI's
#      (the C ABI and the CLI run the same code; the CLI's JSON prints floats round-trip).
#   tools/arm64_check.sh [--no-publish] [--images N]   N golden images per model (default: all)
# Needs tools/arm64_toolchain.sh's packages (clang, lld, arm64 sysroot, qemu-user) and /usr/bin/python3 with numpy.
# Exit status 0 when every check passes.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PUBLISH=1; IMAGES=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-publish) PUBLISH=0 ;;
    --images) IMAGES=$2; shift ;;
    *) echo "arm64_check: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
A=$ROOT/artifacts/dist/linux-arm64
OUT=$ROOT/artifacts/arm64-check
GOLD=$ROOT/tests/AotVit.Tests/data/golden
IMG=$ROOT/tests/AotVit.Tests/data/images
fail() { echo "arm64_check: FAIL: $*"; exit 1; }
command -v qemu-aarch64 >/dev/null || fail "qemu-aarch64 not found (Debian qemu-user; tools/arm64_toolchain.sh)"
start=$SECONDS

if [ $PUBLISH = 1 ]; then bash tools/publish.sh --arm64; fi
[ -x "$A/aotvit" ] && [ -f "$A/libaotvit.so" ] || fail "no arm64 build in $A (run tools/publish.sh --arm64)"
file -b "$A/aotvit" | grep -q "ARM aarch64" || fail "$A/aotvit is not an aarch64 executable: $(file -b "$A/aotvit")"
rm -rf "$OUT" && mkdir -p "$OUT"

# The arm64 dynamic loader and libc come from Debian's multiarch packages, under / (/lib/ld-linux-aarch64.so.1).
# W^X off: the runtime's double mapping of executable memory is not needed by NativeAOT code and is slow under qemu.
export QEMU_LD_PREFIX=/ DOTNET_EnableWriteXorExecute=0
q() { qemu-aarch64 "$@"; }

simd=$(q "$A/aotvit" info | head -1)
echo "arm64_check: $simd"
[[ $simd == *"NativeAOT"*"SIMD: Vector128 (NEON)"* ]] || fail "arm64 aotvit does not report NativeAOT with NEON kernels"

# Golden images per seed model (the goldens name them); --images N keeps the first N of each.
vit_images=(); mv_images=()
for f in "$GOLD"/vit-base-patch32-224-in21k_*.safetensors; do vit_images+=("$(basename "$f" .safetensors | sed 's/^vit-base-patch32-224-in21k_//')"); done
for f in "$GOLD"/mobilevit-small_*.safetensors; do
  n=$(basename "$f" .safetensors | sed 's/^mobilevit-small_//'); [ "$n" = batch ] || mv_images+=("$n")
done
if [ "$IMAGES" -gt 0 ]; then vit_images=("${vit_images[@]:0:$IMAGES}"); mv_images=("${mv_images[@]:0:$IMAGES}"); fi
image_file() { ls "$IMG/$1".* | head -1; }

t0=$SECONDS
for n in "${vit_images[@]}"; do
  q "$A/aotvit" preprocess "$(image_file "$n")" --model vit-base-patch32-224-in21k -o "$OUT/vit_$n.pixels.npy" >/dev/null
  q "$A/aotvit" embed "$(image_file "$n")" --full --json --threads 2 2>/dev/null > "$OUT/vit_$n.json"
done
for n in "${mv_images[@]}"; do
  q "$A/aotvit" preprocess "$(image_file "$n")" --model mobilevit-small -o "$OUT/mv_$n.pixels.npy" >/dev/null
  q "$A/aotvit" classify "$(image_file "$n")" --top 1000 --json --threads 2 2>/dev/null > "$OUT/mv_$n.json"
done
q "$A/aotvit" classify "$IMG/chelsea.png" "$IMG/coffee.png" --top 1000 --json --threads 2 2>/dev/null > "$OUT/mv_batch.json"
echo "arm64_check: CLI under qemu: ${#vit_images[@]} ViT-B/32 + $((${#mv_images[@]} + 1)) MobileViT-S runs in $((SECONDS - t0)) s"

# C samples, cross-compiled against the arm64 library (DT_RUNPATH points at $A, which holds the arm64 libaotvit.so).
make -s -C samples/c NATIVE="$A" OUT="$ROOT/artifacts/samples-c-arm64" CC="clang --target=aarch64-linux-gnu -fuse-ld=lld" \
  "$ROOT/artifacts/samples-c-arm64/classify" "$ROOT/artifacts/samples-c-arm64/embed"
file -b "$ROOT/artifacts/samples-c-arm64/classify" | grep -q "ARM aarch64" || fail "C sample is not an aarch64 executable"
q "$ROOT/artifacts/samples-c-arm64/classify" - "$IMG/chelsea.png" --dump "$OUT/c.cls.f32" >/dev/null
q "$ROOT/artifacts/samples-c-arm64/embed" - "$IMG/chelsea.png" --dump "$OUT/c.emb.f32" >/dev/null

/usr/bin/python3 - "$GOLD" "$OUT" "${#vit_images[@]}" "${vit_images[@]}" "${mv_images[@]}" <<'PY'
import json, struct, sys
import numpy as np
gold, out = sys.argv[1], sys.argv[2]
nv = int(sys.argv[3]); vit, mv = sys.argv[4:4 + nv], sys.argv[4 + nv:]
TOL = 5e-5
failures = []

def safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n)); data = f.read()
    kinds = {"F32": "<f4", "U8": "u1"}
    return {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], kinds[v["dtype"]]).reshape(v["shape"])
            for k, v in header.items() if k != "__metadata__"}

def close(what, got, want):
    got, want = np.asarray(got, np.float32).ravel(), np.asarray(want, np.float32).ravel()
    if got.shape != want.shape: failures.append(f"{what}: {got.size} values, golden has {want.size}"); return
    d = float(np.max(np.abs(got.astype(np.float64) - want)))
    print(f"  {what}: max |diff| {d:.2e}{'' if d <= TOL else '  TOO LARGE'}")
    if not d <= TOL: failures.append(f"{what}: max |diff| {d:.3g} > {TOL}")

def pixels_identical(what, npy, want):
    got = np.load(npy)
    same = got.shape == want.shape and got.tobytes() == want.astype(np.float32).tobytes()
    print(f"  {what}: pixel_values {'bit-identical' if same else 'DIFFERENT'}")
    if not same: failures.append(f"{what}: pixel_values differ from the golden")

def logits_of(result):
    v = np.zeros(1000, np.float32)
    for t in result["top"]: v[t["index"]] = t["logit"]
    return v, [t["index"] for t in result["top"][:5]]

def top5(x): return list(np.argsort(-np.asarray(x, np.float64), kind="stable")[:5])

for n in vit:
    g = safetensors(f"{gold}/vit-base-patch32-224-in21k_{n}.safetensors")
    pixels_identical(f"vit {n}", f"{out}/vit_{n}.pixels.npy", g["pixel_values"])
    r = json.load(open(f"{out}/vit_{n}.json"))["results"][0]
    close(f"vit {n} last_hidden_state", r["last_hidden_state"], g["last_hidden_state"])
    close(f"vit {n} pooler_output", r["pooler_output"], g["pooler_output"])
for n in mv:
    g = safetensors(f"{gold}/mobilevit-small_{n}.safetensors")
    pixels_identical(f"mobilevit {n}", f"{out}/mv_{n}.pixels.npy", g["pixel_values"])
    logits, t5 = logits_of(json.load(open(f"{out}/mv_{n}.json"))["results"][0])
    close(f"mobilevit {n} logits", logits, g["logits"])
    if t5 != top5(g["logits"][0]): failures.append(f"mobilevit {n}: top-5 {t5} != golden {top5(g['logits'][0])}")
g = safetensors(f"{gold}/mobilevit-small_batch.safetensors")["logits"]
for i, r in enumerate(json.load(open(f"{out}/mv_batch.json"))["results"]):
    close(f"mobilevit batch[{i}] logits", logits_of(r)[0], g[i])

# C ABI: the same outputs as the CLI, bit for bit, and within the tolerance of the goldens.
c_cls = np.fromfile(f"{out}/c.cls.f32", "<f4"); c_emb = np.fromfile(f"{out}/c.emb.f32", "<f4")
g_mv = safetensors(f"{gold}/mobilevit-small_chelsea.safetensors"); g_vit = safetensors(f"{gold}/vit-base-patch32-224-in21k_chelsea.safetensors")
close("C classify chelsea logits", c_cls, g_mv["logits"])
close("C embed chelsea last_hidden_state + pooler_output", c_emb, np.concatenate([g_vit["last_hidden_state"].ravel(), g_vit["pooler_output"].ravel()]))
if "chelsea" in mv:
    cli, _ = logits_of(json.load(open(f"{out}/mv_chelsea.json"))["results"][0])
    same = cli.tobytes() == c_cls.tobytes()
    print(f"  C classify == arm64 CLI classify: {'bit-identical' if same else 'DIFFERENT'}")
    if not same: failures.append("C classify logits differ from the arm64 CLI's")
if "chelsea" in vit:
    r = json.load(open(f"{out}/vit_chelsea.json"))["results"][0]
    cli = np.concatenate([np.asarray(r["last_hidden_state"], np.float32), np.asarray(r["pooler_output"], np.float32)])
    same = cli.tobytes() == c_emb.tobytes()
    print(f"  C embed == arm64 CLI embed: {'bit-identical' if same else 'DIFFERENT'}")
    if not same: failures.append("C embed features differ from the arm64 CLI's")
for f in failures: print(f"arm64_check: FAIL: {f}")
sys.exit(1 if failures else 0)
PY
echo "arm64_check: all checks passed ($((SECONDS - start)) s)"
