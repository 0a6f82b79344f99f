#!/usr/bin/env bash
# Shows that the shipped binaries use AVX-512 here and still run correctly on a CPU without it:
#  1. tools/publish.sh builds aotvit-x86-64-v4, aotvit-x86-64-v3 and the CPUID launcher `aotvit`;
#  2. natively, the launcher picks v4 and `info` reports Vector512 kernels;
#  3. under qemu-user emulating a Haswell (AVX2, no AVX-512), the launcher picks v3, and the v3 binary itself,
#     run inside the emulator, classifies chelsea.png with the same top-5 and logits within 1e-5 of native v4;
#  4. the v4 binary on that emulated CPU refuses to start (the runtime's ISA check) instead of computing garbage;
#  5. `aotvit selftest` (every kernel against its reference loops, both seed models against built-in PyTorch values)
#     passes with the v4 binary natively and with the v3 binary on the emulated Haswell.
# Needs qemu-user (Debian package); skips steps 3-4 with a message when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${AOTVIT_SKIP_PUBLISH:-0}" = 1 ] || bash tools/publish.sh >/dev/null
d=artifacts/dist
fail() { echo "isa_check: FAIL: $*"; exit 1; }

chosen=$(AOTVIT_LAUNCHER_VERBOSE=1 $d/aotvit info 2>&1 >/dev/null | head -1)
[[ $chosen == *aotvit-x86-64-v4 ]] || fail "native launcher chose '$chosen'"
$d/aotvit info | grep -q "SIMD: Vector512" || fail "native build does not report Vector512 kernels"
echo "isa_check: native: launcher runs aotvit-x86-64-v4, kernels Vector512"
$d/aotvit-x86-64-v4 classify $d/chelsea.png --json 2>/dev/null > artifacts/isa-native.json
$d/aotvit-x86-64-v4 selftest > artifacts/isa-selftest-v4.txt || { cat artifacts/isa-selftest-v4.txt; fail "aotvit-x86-64-v4 selftest"; }
echo "isa_check: native v4 $(tail -1 artifacts/isa-selftest-v4.txt)"
# Input errors speak in the runtime's own words in the NativeAOT build, whose BCL messages are resource keys
# (UseSystemResourceKeys): a 1x4000 BMP is too extreme in aspect ratio for MobileViT's shortest-edge resize.
python3 -c "import struct,sys; w,h=1,4000; st=(3*w+3)&~3; sys.stdout.buffer.write(b'BM'+struct.pack('<IHHI',54+st*h,0,0,54)+struct.pack('<IiiHHIIiiII',40,w,h,1,24,0,0,0,0,0,0)+b'\x80'*st*h)" > artifacts/isa-tall.bmp
rc=0; $d/aotvit-x86-64-v4 classify artifacts/isa-tall.bmp >/dev/null 2>artifacts/isa-tall.txt || rc=$?
[ $rc = 2 ] && grep -q "^aotvit: error: .*aspect ratio is too extreme for this model" artifacts/isa-tall.txt && ! grep -q "Arg_\|internal error" artifacts/isa-tall.txt \
  || fail "input error on the NativeAOT build: exit $rc: $(cat artifacts/isa-tall.txt)"
echo "isa_check: NativeAOT input error: exit 2, $(grep -m1 'aspect ratio' artifacts/isa-tall.txt)"

if ! command -v qemu-x86_64 >/dev/null; then echo "isa_check: qemu-x86_64 missing: emulated-CPU checks skipped"; exit 0; fi
q() { qemu-x86_64 -cpu Haswell "$@" 2> >(grep -v "qemu-x86_64: warning" >&2); }
chosen=$(AOTVIT_LAUNCHER_VERBOSE=1 q $d/aotvit info 2>&1 >/dev/null | grep "running" | head -1)
[[ $chosen == *aotvit-x86-64-v3 ]] || fail "launcher on emulated Haswell chose '$chosen'"
q $d/aotvit-x86-64-v3 info | grep -q "SIMD: Vector256" || fail "v3 build on Haswell does not report Vector256"
q $d/aotvit-x86-64-v3 classify $d/chelsea.png --json 2>/dev/null > artifacts/isa-haswell.json
python3 - <<'PY' || fail "v3-on-Haswell result differs from native v4"
import json
a = json.load(open("artifacts/isa-native.json"))["results"][0]["top"]
b = json.load(open("artifacts/isa-haswell.json"))["results"][0]["top"]
assert [t["index"] for t in a] == [t["index"] for t in b], (a, b)
d = max(abs(x["logit"] - y["logit"]) for x, y in zip(a, b))
assert d <= 1e-5, d
print(f"isa_check: emulated Haswell (no AVX-512): launcher runs aotvit-x86-64-v3; top-5 identical, max |logit diff| {d:.1e}")
PY
if q $d/aotvit-x86-64-v4 info >/dev/null 2>artifacts/isa-v4-on-haswell.txt; then fail "v4 build started on a CPU without AVX-512"; fi
grep -q "required instruction sets are not supported" artifacts/isa-v4-on-haswell.txt || fail "v4 on Haswell: unexpected failure: $(cat artifacts/isa-v4-on-haswell.txt)"
echo "isa_check: v4 build on emulated Haswell refuses to start: $(grep -m1 required artifacts/isa-v4-on-haswell.txt)"
t0=$SECONDS
q $d/aotvit-x86-64-v3 selftest > artifacts/isa-selftest-v3-haswell.txt || { cat artifacts/isa-selftest-v3-haswell.txt; fail "aotvit-x86-64-v3 selftest on emulated Haswell"; }
echo "isa_check: v3 on emulated Haswell $(tail -1 artifacts/isa-selftest-v3-haswell.txt) ($((SECONDS - t0)) s)"
