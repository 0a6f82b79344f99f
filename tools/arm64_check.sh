#!/usr/bin/env bash
# arm64_check.sh: cross-compiles aotvit and libaotvit.so for linux-arm64 (tools/publish.sh --arm64) and runs them under
# qemu-aarch64 against the committed goldens (PyTorch float32, synthetic seed-0 checkpoints, tests/AotVit.Tests/data/golden):
#   1. `aotvit info` under qemu reports the NEON (Vector128) kernels; `aotvit selftest` passes;
#   2. every compiled model (vit-base-patch32-224-in21k, mobilevit-small, vit-base-patch16-224,
#      deit-small-distilled-patch16-224, mobilevit-x-small, mobilevit-xx-small) on its golden images: pixel_values
#      (`aotvit preprocess`) bit-identical to the golden's (the seed goldens hold the tensor, the family goldens of
#      tools/reference_family.py its SHA-256, as FamilyGoldenTests checks them on x64); JPEGs whose x64 pixels are not
#      the golden's (libjpeg's decode) against the x64 build instead;
#   3. one `classify --format npy` (logits) or, for ViT-B/32, `embed --full --format npy` (last_hidden_state and
#      pooler_output) per model over all its images as one batch: within 5e-5 of the golden (or x64), top-5 identical
#      (of the logits; of pooler_output for ViT-B/32, as the goldens' top5 metadata); per-model qemu times go to
#      artifacts/arm64-check/timings.tsv (model, images, preprocess s, model run s);
#   4. the C samples (samples/c) cross-compiled with clang --target=aarch64-linux-gnu against the arm64 libaotvit.so,
#      run under qemu on chelsea.png: classify logits and embed features within 5e-5 of the goldens.
#   tools/arm64_check.sh [--no-publish] [--images N] [--quick]
#     --images N   N golden images per model, chelsea first (default: all)
#     --quick      what CI runs (tools/test.sh): `selftest --kernels` (the model forwards are checked in 3 instead),
#                  --images 1 (chelsea for each of the six models), and the C classify sample only
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

# Every compiled model against its goldens. The seed models' goldens (tools/reference.py) hold pixel_values and the
# outputs; the other four (tools/reference_family.py: chelsea, coffee, astronaut) hold the outputs and the SHA-256 of
# pixel_values in their metadata, as FamilyGoldenTests compares them on x64. --images N keeps the first N images of
# each model, chelsea first.
MODELS=(vit-base-patch32-224-in21k mobilevit-small vit-base-patch16-224 deit-small-distilled-patch16-224 mobilevit-x-small mobilevit-xx-small)
image_file() { ls "$IMG/$1".* | head -1; }
images_of() {   # golden images of model $1, chelsea first, --images N applied
  local m=$1 n all=()
  for f in "$GOLD/${m}"_*.safetensors; do
    n=$(basename "$f" .safetensors); n=${n#"${m}_"}
    [ "$n" = batch ] || [ "$n" = chelsea ] || all+=("$n")
  done
  all=(chelsea "${all[@]}")
  if [ "$IMAGES" -gt 0 ]; then all=("${all[@]:0:$IMAGES}"); fi
  printf '%s\n' "${all[@]}"
}
X64=${AOTVIT_X64:-$ROOT/src/Cli/bin/Release/net10.0/linux-x64/aotvit}
: > "$OUT/manifest.tsv"; : > "$OUT/timings.tsv"
for m in "${MODELS[@]}"; do
  mapfile -t imgs < <(images_of "$m")
  files=(); for n in "${imgs[@]}"; do files+=("$(image_file "$n")"); done
  # classifiers have `logits` in their goldens; the feature extractor (ViT-B/32) last_hidden_state + pooler_output
  if /usr/bin/python3 -c "import json,struct,sys; f=open(sys.argv[1],'rb'); h=json.loads(f.read(struct.unpack('<Q',f.read(8))[0])); sys.exit(0 if 'logits' in h else 1)" "$GOLD/${m}_chelsea.safetensors"; then
    run=(classify --format npy); kind=classify
  else
    run=(embed --full --format npy); kind=embed
  fi
  t0=$SECONDS
  for n in "${imgs[@]}"; do
    q "$A/aotvit" preprocess "$(image_file "$n")" --model "$m" -o "$OUT/${m}_$n.pixels.npy" >/dev/null
    printf '%s\t%s\t%s\t%s\n' "$m" "$n" "$(basename "$(image_file "$n")")" "$kind" >> "$OUT/manifest.tsv"
  done
  tp=$((SECONDS - t0)); t0=$SECONDS
  # One process per model, all its images as one batch: under qemu, building the synthetic checkpoint and packing the
  # weights costs about as much as a forward, so it is paid once per model.
  q "$A/aotvit" "${run[@]}" "${files[@]}" --model "$m" --threads 2 -o "$OUT/$m" 2>/dev/null >/dev/null \
    || fail "$m: aotvit ${run[*]} under qemu"
  tm=$((SECONDS - t0))
  printf '%s\t%d\t%d\t%d\n' "$m" "${#imgs[@]}" "$tp" "$tm" >> "$OUT/timings.tsv"
  echo "arm64_check: $m under qemu: ${#imgs[@]} image(s): preprocess ${tp} s, $kind (one batch, checkpoint build included) ${tm} s"
  # JPEG goldens hold Pillow/libjpeg's decode, which aot-vit's decoder does not reproduce bit for bit (on x64 either:
  # docs/notes/2026-12-07-arm64.md): those images are also run on the x64 build (JIT, `dotnet build src/Cli -c Release`;
  # AOTVIT_X64 overrides), and compared with it where its pixels are not the golden's.
  jpegs=(); for n in "${imgs[@]}"; do f=$(image_file "$n"); case "$f" in *.jpg|*.jpeg) jpegs+=("$n") ;; esac; done
  if [ ${#jpegs[@]} -gt 0 ]; then
    [ -x "$X64" ] || dotnet build src/Cli -c Release -v q -nologo >/dev/null || fail "cannot build the x64 CLI"
    jfiles=(); for n in "${jpegs[@]}"; do jfiles+=("$(image_file "$n")"); "$X64" preprocess "$(image_file "$n")" --model "$m" -o "$OUT/x64_${m}_$n.pixels.npy" >/dev/null; done
    "$X64" "${run[@]}" "${jfiles[@]}" --model "$m" --threads 2 -o "$OUT/x64_$m" 2>/dev/null >/dev/null || fail "$m: x64 ${run[*]}"
    printf '%s\n' "${jpegs[@]}" > "$OUT/x64_$m.images"
  fi
done

# C samples, cross-compiled against the arm64 library (DT_RUNPATH points at $A, which holds the arm64 libaotvit.so).
make -s -C samples/c NATIVE="$A" OUT="$ROOT/artifacts/samples-c-arm64" CC="clang --target=aarch64-linux-gnu -fuse-ld=lld" \
  "$ROOT/artifacts/samples-c-arm64/classify" "$ROOT/artifacts/samples-c-arm64/embed"
file -b "$ROOT/artifacts/samples-c-arm64/classify" | grep -q "ARM aarch64" || fail "C sample is not an aarch64 executable"
t0=$SECONDS
q "$ROOT/artifacts/samples-c-arm64/classify" - "$IMG/chelsea.png" --dump "$OUT/c.cls.f32" >/dev/null
[ $QUICK = 1 ] || q "$ROOT/artifacts/samples-c-arm64/embed" - "$IMG/chelsea.png" --dump "$OUT/c.emb.f32" >/dev/null
echo "arm64_check: C samples under qemu ($([ $QUICK = 1 ] && echo classify || echo classify, embed)): $((SECONDS - t0)) s"

/usr/bin/python3 - "$GOLD" "$OUT" <<'PY'
import hashlib, json, os, struct, sys
import numpy as np
gold, out = sys.argv[1], sys.argv[2]
TOL = 5e-5
failures = []

def safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n)); data = f.read()
    kinds = {"F32": "<f4", "U8": "u1"}
    tensors = {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], kinds[v["dtype"]]).reshape(v["shape"])
               for k, v in header.items() if k != "__metadata__"}
    return tensors, header.get("__metadata__", {})

def close(what, got, want):
    got, want = np.asarray(got, np.float32).ravel(), np.asarray(want, np.float32).ravel()
    if got.shape != want.shape: failures.append(f"{what}: {got.size} values, reference has {want.size}"); return
    d = float(np.max(np.abs(got.astype(np.float64) - want)))
    print(f"  {what}: max |diff| {d:.2e}{'' if d <= TOL else '  TOO LARGE'}")
    if not d <= TOL: failures.append(f"{what}: max |diff| {d:.3g} > {TOL}")

def le_bytes(a): return np.ascontiguousarray(a, dtype="<f4").tobytes()

def top5(x): return [int(i) for i in np.argsort(-np.asarray(x, np.float64).ravel(), kind="stable")[:5]]

def pixels_match_golden(pixels, g, meta):
    if "pixel_values" in g: return pixels.shape == g["pixel_values"].shape and le_bytes(pixels) == le_bytes(g["pixel_values"])
    return hashlib.sha256(le_bytes(pixels)).hexdigest() == meta["pixel_values_sha256"] \
        and list(pixels.shape) == json.loads(meta["pixel_values_shape"])

def rows_of(index_tsv, n):
    lines = [l.rstrip("\n").split("\t") for l in open(index_tsv) if l.strip()]
    lines = [l for l in lines if l and l[0] != "row"]   # header, if any
    if len(lines) != n or any(l[-1] for l in lines if len(l) > 2):
        failures.append(f"{index_tsv}: expected {n} images without error, got {lines}")

manifest = {}
for line in open(f"{out}/manifest.tsv"):
    m, n, file, kind = line.rstrip("\n").split("\t")
    manifest.setdefault(m, []).append((n, file, kind))
for m, items in manifest.items():
    kind = items[0][2]
    rows_of(f"{out}/{m}.index.tsv", len(items))
    if kind == "classify":
        got = {"logits": np.load(f"{out}/{m}.npy")}
    else:
        got = {"pooler_output": np.load(f"{out}/{m}.npy"), "last_hidden_state": np.load(f"{out}/{m}.last_hidden_state.npy")}
    x64 = None
    if os.path.exists(f"{out}/x64_{m}.images"):
        x64_names = open(f"{out}/x64_{m}.images").read().split()
        if kind == "classify": x64 = {"logits": np.load(f"{out}/x64_{m}.npy")}
        else: x64 = {"pooler_output": np.load(f"{out}/x64_{m}.npy"), "last_hidden_state": np.load(f"{out}/x64_{m}.last_hidden_state.npy")}
    for i, (n, file, _) in enumerate(items):
        g, meta = safetensors(f"{gold}/{m}_{n}.safetensors")
        pixels = np.load(f"{out}/{m}_{n}.pixels.npy")
        names = ["logits"] if kind == "classify" else ["last_hidden_state", "pooler_output"]
        if pixels_match_golden(pixels, g, meta):
            print(f"  {m} {n}: pixel_values bit-identical to the golden")
            ref, refname = {k: g[k] for k in names}, "golden"
        elif x64 is not None and n in x64_names:
            # a JPEG whose libjpeg decode aot-vit does not reproduce: x64 must then also differ from the golden, and arm64
            # must equal x64
            j = x64_names.index(n)
            x64_pixels = np.load(f"{out}/x64_{m}_{n}.pixels.npy")
            if pixels_match_golden(x64_pixels, g, meta): failures.append(f"{m} {n}: x64 pixel_values are the golden's, arm64's are not")
            same = le_bytes(pixels) == le_bytes(x64_pixels)
            print(f"  {m} {n}: pixel_values {'bit-identical to x64' if same else 'DIFFERENT from x64'} (JPEG: x64 differs from the golden's libjpeg decode)")
            if not same: failures.append(f"{m} {n}: pixel_values differ from the x64 build's")
            ref, refname = {k: x64[k][j] for k in names}, "x64"
        else:
            failures.append(f"{m} {n} ({file}): pixel_values differ from the golden"); print(f"  {m} {n}: pixel_values DIFFERENT"); continue
        for k in names: close(f"{m} {n} {k} vs {refname}", got[k][i], ref[k])
        # top-5: the classifiers' logits; for ViT-B/32 the goldens' top5 is of pooler_output
        t = top5(got["logits"][i] if kind == "classify" else got["pooler_output"][i])
        want = top5(ref["logits"] if kind == "classify" else ref["pooler_output"])
        if refname == "golden" and "top5" in meta and json.loads(meta["top5"]) != want:
            failures.append(f"{m} {n}: the golden's top5 metadata {meta['top5']} is not its outputs' {want}")
        print(f"  {m} {n}: top-5 {t}{'' if t == want else f'  != {refname} {want}'}")
        if t != want: failures.append(f"{m} {n}: top-5 {t} != {refname} {want}")
# C ABI (one image at a time, the synthetic checkpoint built by the library): within the tolerance of the goldens.
c_cls = np.fromfile(f"{out}/c.cls.f32", "<f4")
close("C classify chelsea logits", c_cls, safetensors(f"{gold}/mobilevit-small_chelsea.safetensors")[0]["logits"])
if os.path.exists(f"{out}/c.emb.f32"):   # not in --quick
    c_emb = np.fromfile(f"{out}/c.emb.f32", "<f4")
    g_vit = safetensors(f"{gold}/vit-base-patch32-224-in21k_chelsea.safetensors")[0]
    close("C embed chelsea last_hidden_state + pooler_output", c_emb, np.concatenate([g_vit["last_hidden_state"].ravel(), g_vit["pooler_output"].ravel()]))
print(f"arm64_check: {sum(len(v) for v in manifest.values())} (model, image) pairs over {len(manifest)} models")
for f in failures: print(f"arm64_check: FAIL: {f}")
sys.exit(1 if failures else 0)
PY
echo "arm64_check: all checks passed ($((SECONDS - start)) s)"
