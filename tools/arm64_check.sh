#!/usr/bin/env bash
# arm64_check.sh: cross-compiles aotvit and libaotvit.so for linux-arm64 (tools/publish.sh --arm64) and runs them under
# qemu-aarch64 against the committed goldens (PyTorch float32, synthetic seed-0 checkpoints, tests/AotVit.Tests/data/golden):
#   1. `aotvit info` under qemu reports the NEON (Vector128) kernels; `aotvit selftest` passes;
#   2. pixel_values (`aotvit preprocess`) bit-identical to the goldens' for both seed models, every golden image whose
#      x64 pixels are the golden's (the PNGs); the others (JPEGs: the goldens hold libjpeg's decode) against the x64 build;
#   3. ViT-B/32 `embed --json --full` (all golden images as one batch): last_hidden_state and pooler_output within 5e-5
#      of the goldens (of the x64 build where 2 compares with it); MobileViT-S `classify --top 1000 --json` (likewise): 1000 logits within 5e-5, top-5 identical
#      (the CLI's JSON prints floats round-trip);
#   4. the C samples (samples/c) cross-compiled with clang --target=aarch64-linux-gnu against the arm64 libaotvit.so,
#      run under qemu on chelsea.png: classify logits and embed features within 5e-5 of the goldens.
#   tools/arm64_check.sh [--no-publish] [--images N] [--quick]
#     --images N   N golden images per model, chelsea first (default: all)
#     --quick      what CI runs (tools/test.sh): `selftest --kernels` (the model forwards are checked in 3 instead),
#                  --images 1, and the C classify sample only
# Needs tools/arm64_toolchain.sh's packages (clang, lld, arm64 sysroot, qemu-user) and /usr/bin/python3 with numpy.
# Exit status 0 when every check passes.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PUBLISH=1; IMAGES=0; QUICK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-publish) PUBLISH=0 ;;
    --images) IMAGES=$2; shift ;;
    --quick) QUICK=1; IMAGES=1 ;;
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

# `aotvit selftest`: every NEON kernel against its reference loops and both seed models against built-in PyTorch
# values, as a user runs it on a board.
t0=$SECONDS
if [ $QUICK = 1 ]; then selftest_args=(--kernels); else selftest_args=(--image "$A/chelsea.png"); fi
q "$A/aotvit" selftest "${selftest_args[@]}" > "$OUT/selftest.txt" || { cat "$OUT/selftest.txt"; fail "aotvit selftest under qemu"; }
echo "arm64_check: $(tail -1 "$OUT/selftest.txt") (under qemu, $((SECONDS - t0)) s)"

# Golden images per seed model (the goldens name them); --images N keeps the first N of each, chelsea first
# (the C samples are checked on chelsea).
vit_images=(); mv_images=()
for f in "$GOLD"/vit-base-patch32-224-in21k_*.safetensors; do vit_images+=("$(basename "$f" .safetensors | sed 's/^vit-base-patch32-224-in21k_//')"); done
for f in "$GOLD"/mobilevit-small_*.safetensors; do
  n=$(basename "$f" .safetensors | sed 's/^mobilevit-small_//'); [ "$n" = batch ] || mv_images+=("$n")
done
chelsea_first() { local n; echo chelsea; for n in "$@"; do [ "$n" = chelsea ] || echo "$n"; done; }
mapfile -t vit_images < <(chelsea_first "${vit_images[@]}"); mapfile -t mv_images < <(chelsea_first "${mv_images[@]}")
if [ "$IMAGES" -gt 0 ]; then vit_images=("${vit_images[@]:0:$IMAGES}"); mv_images=("${mv_images[@]:0:$IMAGES}"); fi
image_file() { ls "$IMG/$1".* | head -1; }

t0=$SECONDS
for n in "${vit_images[@]}"; do
  q "$A/aotvit" preprocess "$(image_file "$n")" --model vit-base-patch32-224-in21k -o "$OUT/vit_$n.pixels.npy" >/dev/null
done
for n in "${mv_images[@]}"; do
  q "$A/aotvit" preprocess "$(image_file "$n")" --model mobilevit-small -o "$OUT/mv_$n.pixels.npy" >/dev/null
done
echo "arm64_check: preprocess under qemu: $((${#vit_images[@]} + ${#mv_images[@]})) images in $((SECONDS - t0)) s"
t0=$SECONDS
# One process per model, all its images as one batch: under qemu, building the synthetic checkpoint and packing the
# weights costs more than a forward, so it is paid once per model.
vit_files=(); for n in "${vit_images[@]}"; do vit_files+=("$(image_file "$n")"); done
q "$A/aotvit" embed "${vit_files[@]}" --full --json --threads 2 2>/dev/null > "$OUT/vit.json"
echo "arm64_check: ViT-B/32 embed under qemu, batch of ${#vit_images[@]}: $((SECONDS - t0)) s"
t0=$SECONDS
mv_files=(); for n in "${mv_images[@]}"; do mv_files+=("$(image_file "$n")"); done
q "$A/aotvit" classify "${mv_files[@]}" --top 1000 --json --threads 2 2>/dev/null > "$OUT/mv.json"
echo "arm64_check: MobileViT-S classify under qemu, batch of ${#mv_images[@]}: $((SECONDS - t0)) s"

# The same runs with the x64 build (JIT, `dotnet build src/Cli -c Release`; AOTVIT_X64 overrides): the JPEG goldens hold
# Pillow/libjpeg's decode, which the CLI's decode path does not reproduce bit for bit on these JPEGs (on x64 either:
# docs/notes/2026-12-07-arm64.md), so where the x64 pixels differ from the golden's the arm64 run is compared with x64
# instead (pixels bit-identical, outputs ≤ 5e-5).
X64=${AOTVIT_X64:-$ROOT/src/Cli/bin/Release/net10.0/linux-x64/aotvit}
[ -x "$X64" ] || dotnet build src/Cli -c Release -v q -nologo >/dev/null || fail "cannot build the x64 CLI"
for n in "${vit_images[@]}"; do "$X64" preprocess "$(image_file "$n")" --model vit-base-patch32-224-in21k -o "$OUT/x64_vit_$n.pixels.npy" >/dev/null; done
for n in "${mv_images[@]}"; do "$X64" preprocess "$(image_file "$n")" --model mobilevit-small -o "$OUT/x64_mv_$n.pixels.npy" >/dev/null; done
"$X64" embed "${vit_files[@]}" --full --json --threads 2 2>/dev/null > "$OUT/x64_vit.json"
"$X64" classify "${mv_files[@]}" --top 1000 --json --threads 2 2>/dev/null > "$OUT/x64_mv.json"

# C samples, cross-compiled against the arm64 library (DT_RUNPATH points at $A, which holds the arm64 libaotvit.so).
make -s -C samples/c NATIVE="$A" OUT="$ROOT/artifacts/samples-c-arm64" CC="clang --target=aarch64-linux-gnu -fuse-ld=lld" \
  "$ROOT/artifacts/samples-c-arm64/classify" "$ROOT/artifacts/samples-c-arm64/embed"
file -b "$ROOT/artifacts/samples-c-arm64/classify" | grep -q "ARM aarch64" || fail "C sample is not an aarch64 executable"
t0=$SECONDS
q "$ROOT/artifacts/samples-c-arm64/classify" - "$IMG/chelsea.png" --dump "$OUT/c.cls.f32" >/dev/null
[ $QUICK = 1 ] || q "$ROOT/artifacts/samples-c-arm64/embed" - "$IMG/chelsea.png" --dump "$OUT/c.emb.f32" >/dev/null
echo "arm64_check: C samples under qemu ($([ $QUICK = 1 ] && echo classify || echo classify, embed)): $((SECONDS - t0)) s"

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

vit_results = json.load(open(f"{out}/vit.json"))["results"]
mv_results = json.load(open(f"{out}/mv.json"))["results"]
x64_vit = json.load(open(f"{out}/x64_vit.json"))["results"]
x64_mv = json.load(open(f"{out}/x64_mv.json"))["results"]

def reference(golden, x64_pixels):
    """The golden when the x64 build's pixels are the golden's (then the model outputs are PyTorch's on the same input);
    else the x64 build (a JPEG whose libjpeg decode aot-vit does not reproduce)."""
    return "golden" if np.load(x64_pixels).tobytes() == golden["pixel_values"].astype(np.float32).tobytes() else "x64"

for i, (n, r) in enumerate(zip(vit, vit_results)):
    g = safetensors(f"{gold}/vit-base-patch32-224-in21k_{n}.safetensors")
    kind = reference(g, f"{out}/x64_vit_{n}.pixels.npy")
    if kind == "golden":
        pixels_identical(f"vit {n} vs golden", f"{out}/vit_{n}.pixels.npy", g["pixel_values"])
        close(f"vit {n} last_hidden_state vs golden", r["last_hidden_state"], g["last_hidden_state"])
        close(f"vit {n} pooler_output vs golden", r["pooler_output"], g["pooler_output"])
    else:
        pixels_identical(f"vit {n} vs x64", f"{out}/vit_{n}.pixels.npy", np.load(f"{out}/x64_vit_{n}.pixels.npy"))
        close(f"vit {n} last_hidden_state vs x64", r["last_hidden_state"], x64_vit[i]["last_hidden_state"])
        close(f"vit {n} pooler_output vs x64", r["pooler_output"], x64_vit[i]["pooler_output"])
if len(vit_results) != len(vit) or len(mv_results) != len(mv): failures.append("the CLI returned a result count other than the image count")
for i, (n, r) in enumerate(zip(mv, mv_results)):
    g = safetensors(f"{gold}/mobilevit-small_{n}.safetensors")
    kind = reference(g, f"{out}/x64_mv_{n}.pixels.npy")
    logits, t5 = logits_of(r)
    if kind == "golden":
        pixels_identical(f"mobilevit {n} vs golden", f"{out}/mv_{n}.pixels.npy", g["pixel_values"])
        want = g["logits"][0]
    else:
        pixels_identical(f"mobilevit {n} vs x64", f"{out}/mv_{n}.pixels.npy", np.load(f"{out}/x64_mv_{n}.pixels.npy"))
        want = logits_of(x64_mv[i])[0]
    close(f"mobilevit {n} logits vs {kind}", logits, want)
    if t5 != top5(want): failures.append(f"mobilevit {n}: top-5 {t5} != {kind} {top5(want)}")
# C ABI (one image at a time, the synthetic checkpoint built by the library): within the tolerance of the goldens.
import os
c_cls = np.fromfile(f"{out}/c.cls.f32", "<f4")
g_mv = safetensors(f"{gold}/mobilevit-small_chelsea.safetensors")
close("C classify chelsea logits", c_cls, g_mv["logits"])
if os.path.exists(f"{out}/c.emb.f32"):   # not in --quick
    c_emb = np.fromfile(f"{out}/c.emb.f32", "<f4")
    g_vit = safetensors(f"{gold}/vit-base-patch32-224-in21k_chelsea.safetensors")
    close("C embed chelsea last_hidden_state + pooler_output", c_emb, np.concatenate([g_vit["last_hidden_state"].ravel(), g_vit["pooler_output"].ravel()]))
for f in failures: print(f"arm64_check: FAIL: {f}")
sys.exit(1 if failures else 0)
PY
echo "arm64_check: all checks passed ($((SECONDS - start)) s)"
