#!/usr/bin/python3
"""JPEG corpus for aot-vit's own JPEG decoder (issue 15): files + what Pillow 9.4 (libjpeg-turbo 2.1.5) makes of them.

Run with Debian's Python (Pillow 9.4 + numpy; needs libjpeg-turbo-progs and libjpeg62-turbo-dev + gcc):
    /usr/bin/python3 tools/jpeg_corpus.py            # writes the corpus and its manifest
    /usr/bin/python3 tools/jpeg_corpus.py --check    # re-generates in memory, fails if any committed byte differs

Outputs (deterministic: seeded numpy content, Pillow's and cjpeg/jpegtran's encoders, byte patches):
  tests/AotVit.Tests/data/jpeg/corpus/*.jpg
  tests/AotVit.Tests/data/jpeg/corpus/manifest.tsv, one line per file, tab-separated:
    file  category  covers  mode  width  height  orientation  on  off  allow_error
  mode/width/height: Pillow's im.mode / im.size after Image.open ("-" when open raises).
  orientation: Pillow's getexif()[0x0112] ("-" when absent or unreadable).
  on:  Image.open -> ImageOps.exif_transpose -> convert("RGB")  (transformers' load_image, aot-vit's default)
  off: Image.open -> convert("RGB")
       each "sha256:<hex of the packed RGB bytes, row-major>" or "error:<ExceptionType>: <message>".
  (tests/AotVit.Tests/data/jpeg/harness.tsv: the same lines for the PNGs of tests/AotVit.Tests/data/images, paths relative to
  the corpus folder, to check the harness on files our decoders already match.)
  allow_error: "1" where a clear error is acceptable instead of Pillow's pixels (arithmetic coding, which issue 15
       allows to be unsupported; entropy data libjpeg decodes with only a warning: flipped bytes, a wrong RST number, data that ends early);
       the decoder may then throw ImageDecodeException, but if it decodes, the hash must match.
Categories: quality, sampling, progressive, smoothing, sequential-scans, optimize, restart, size, grey, rgb, cmyk,
ycck, exif, content, markers, transform, arithmetic, unsupported, truncated, corrupt. Progressive files Pillow
decodes say in "covers" how many decoded bytes libjpeg's block smoothing changes (tools/jpeg/smoothdiff.c:
libjpeg with do_block_smoothing on, Pillow's case, against off).

The tests (tests/AotVit.Tests/Imaging/Jpeg/JpegCorpusTests.cs) need no Pillow: they read the manifest.
"""
import hashlib
import io
import os
import re
import struct
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from PIL import Image, ImageOps

warnings.simplefilter("ignore")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "AotVit.Tests", "data", "jpeg", "corpus")
SOURCES = os.path.join(ROOT, "tests", "AotVit.Tests", "data", "images")
TMP = tempfile.mkdtemp(prefix="jpeg_corpus_")

# ---------------------------------------------------------------------------------------------------------------
# Content (all seeded)


def _source(name):
    im = Image.open(os.path.join(SOURCES, name))
    return np.asarray(im.convert("RGB"))


_PHOTOS = {}


def photo(w, h, seed):
    """A crop of one of the repo's sample photos, resized (BICUBIC) to w x h: natural-image statistics."""
    names = ["astronaut.png", "chelsea.png", "coffee.png"]
    name = names[seed % 3]
    if name not in _PHOTOS:
        _PHOTOS[name] = _source(name)
    a = _PHOTOS[name]
    rng = np.random.RandomState(seed)
    H, W = a.shape[:2]
    ch, cw = rng.randint(H // 3, H + 1), rng.randint(W // 3, W + 1)
    y, x = rng.randint(0, H - ch + 1), rng.randint(0, W - cw + 1)
    return np.asarray(Image.fromarray(a[y:y + ch, x:x + cw]).resize((w, h), Image.BICUBIC))


def gradient(w, h, seed):
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.empty((h, w, 3), np.float64)
    for c in range(3):
        a, b, p = rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0, 255)
        out[..., c] = p + 255 * (a * xx / max(w - 1, 1) + b * yy / max(h - 1, 1))
    return np.clip(out, 0, 255).astype(np.uint8)


def noise(w, h, seed):
    return np.random.RandomState(seed).randint(0, 256, (h, w, 3)).astype(np.uint8)


def saturated(w, h, seed):
    """Blocks and 1-pixel stripes of fully saturated colours (the YCbCr gamut corners): clipping after IDCT and
    after chroma upsampling."""
    rng = np.random.RandomState(seed)
    pal = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255], [255, 0, 255],
                    [0, 0, 0], [255, 255, 255]], np.uint8)
    cell = rng.randint(1, 6)
    yy, xx = np.mgrid[0:h, 0:w]
    idx = ((yy // cell) * 3 + (xx // max(1, cell - 1 + (seed % 2))) + rng.randint(0, 8)) % 8
    out = pal[idx]
    if seed % 3 == 0:
        out[:, ::2] = pal[rng.randint(0, 8)]
    return out


def edges(w, h, seed):
    """Sharp-edged shapes over a gradient plus a little noise."""
    rng = np.random.RandomState(seed)
    out = gradient(w, h, seed + 1).astype(np.int32)
    yy, xx = np.mgrid[0:h, 0:w]
    for _ in range(6):
        cx, cy, r = rng.randint(0, w), rng.randint(0, h), rng.randint(1, max(2, max(w, h) // 2))
        col = rng.randint(0, 256, 3)
        if rng.randint(2):
            m = (xx - cx) ** 2 + (yy - cy) ** 2 < r * r
        else:
            m = (abs(xx - cx) < r) & (abs(yy - cy) < r // 2 + 1)
        out[m] = col
    out += rng.randint(-8, 9, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def mixed(w, h, seed):
    a = photo(w, h, seed).astype(np.int32)
    a += np.random.RandomState(seed).randint(-40, 41, a.shape)
    return np.clip(a, 0, 255).astype(np.uint8)


CONTENT = {"photo": photo, "gradient": gradient, "noise": noise, "saturated": saturated, "edges": edges,
           "mixed": mixed}
KINDS = list(CONTENT)


def content(kind, w, h, seed):
    return CONTENT[kind](w, h, seed)


# ---------------------------------------------------------------------------------------------------------------
# Encoders


def pil(arr, mode=None, **kw):
    im = Image.fromarray(arr, "CMYK") if arr.ndim == 3 and arr.shape[2] == 4 else Image.fromarray(arr)
    if mode:
        im = im.convert(mode)
    f = io.BytesIO()
    im.save(f, "JPEG", **kw)
    return f.getvalue()


def _run(cmd, data):
    p = subprocess.run(cmd, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), p.stderr.decode()))
    return p.stdout


def _pnm(arr):
    if arr.ndim == 2:
        return b"P5\n%d %d\n255\n" % (arr.shape[1], arr.shape[0]) + arr.tobytes()
    return b"P6\n%d %d\n255\n" % (arr.shape[1], arr.shape[0]) + arr.tobytes()


_SCRIPTS = {}


def cjpeg(arr, *args, scans=None):
    args = list(args)
    if scans is not None:
        path = os.path.join(TMP, "scans%d.txt" % len(_SCRIPTS))
        with open(path, "w") as f:
            f.write(scans)
        _SCRIPTS[path] = scans
        args += ["-scans", path]
    return _run(["cjpeg"] + args, _pnm(arr))


def jpegtran(data, *args, scans=None):
    args = list(args)
    if scans is not None:
        path = os.path.join(TMP, "tscans%d.txt" % len(_SCRIPTS))
        with open(path, "w") as f:
            f.write(scans)
        _SCRIPTS[path] = scans
        args += ["-scans", path]
    return _run(["jpegtran"] + args, data)


_CMYKENC = None


def cmykenc(cmyk, quality, mode, *extra):
    global _CMYKENC
    if _CMYKENC is None:
        _CMYKENC = os.path.join(TMP, "cmykenc")
        subprocess.run(["gcc", "-O2", "-o", _CMYKENC, os.path.join(ROOT, "tools", "jpeg", "cmykenc.c"), "-ljpeg"],
                       check=True)
    h, w = cmyk.shape[:2]
    return _run([_CMYKENC, str(w), str(h), str(quality), mode] + list(extra), cmyk.tobytes())


_SMOOTHDIFF = None


def smoothing_note(data):
    """For a progressive file: how many decoded bytes libjpeg's block smoothing changes (tools/jpeg/smoothdiff.c)."""
    global _SMOOTHDIFF
    try:
        if sof(data)[0] not in (0xC2, 0xCA):
            return ""
    except StopIteration:
        return ""
    if _SMOOTHDIFF is None:
        _SMOOTHDIFF = os.path.join(TMP, "smoothdiff")
        subprocess.run(["gcc", "-O2", "-o", _SMOOTHDIFF, os.path.join(ROOT, "tools", "jpeg", "smoothdiff.c"), "-ljpeg"],
                       check=True)
    path = os.path.join(TMP, "smooth.jpg")
    with open(path, "wb") as f:
        f.write(data)
    p = subprocess.run([_SMOOTHDIFF, path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if p.returncode != 0:
        return ""
    changed, total = map(int, p.stdout.split())
    return "; block smoothing changes %d of %d bytes" % (changed, total) if changed else "; block smoothing changes nothing"


def exif_bytes(orientation, extra=False):
    e = Image.Exif()
    if orientation is not None:
        e[0x0112] = orientation
    if extra:
        e[0x010F] = "aot-vit corpus"  # Make
        e[0x0131] = "jpeg_corpus.py"  # Software
    return e.tobytes()


# ---------------------------------------------------------------------------------------------------------------
# Byte-level edits


def segments(data):
    """(marker, offset of the 0xFF, total length incl. marker) for the header segments up to and including SOS."""
    out, i = [], 2
    while i < len(data) - 1:
        if data[i] != 0xFF:
            break
        m = data[i + 1]
        if m == 0xFF:
            i += 1
            continue
        ln = struct.unpack(">H", data[i + 2:i + 4])[0]
        out.append((m, i, ln + 2))
        if m == 0xDA:
            break
        i += ln + 2
    return out


def find(data, marker, nth=0):
    hits = [s for s in segments(data) if s[0] == marker]
    return hits[nth]


def sof(data):
    return next(s for s in segments(data) if s[0] in (0xC0, 0xC1, 0xC2, 0xC3, 0xC9, 0xCA))


def patch(data, offset, new):
    return data[:offset] + bytes(new) + data[offset + len(new):]


def scan_start(data):
    m, off, ln = find(data, 0xDA)
    return off + ln


def remove_segment(data, marker, nth=0):
    m, off, ln = find(data, marker, nth)
    return data[:off] + data[off + ln:]


def insert_after_soi(data, seg):
    return data[:2] + seg + data[2:]


def app(n, payload):
    return bytes([0xFF, n]) + struct.pack(">H", len(payload) + 2) + payload


# ---------------------------------------------------------------------------------------------------------------
# Pillow's view


def pillow_result(data, transpose):
    try:
        im = Image.open(io.BytesIO(data))
        if transpose:
            im = ImageOps.exif_transpose(im)
        rgb = im.convert("RGB")
        return "sha256:" + hashlib.sha256(rgb.tobytes()).hexdigest()
    except Exception as e:  # noqa: BLE001 -- Pillow's own message is the expected outcome
        msg = re.sub(r" ?<_io\.BytesIO object at 0x[0-9a-f]+>", "", " ".join(str(e).split()))
        return "error:%s: %s" % (type(e).__name__, msg)


def pillow_info(data):
    try:
        im = Image.open(io.BytesIO(data))
        mode, (w, h) = im.mode, im.size
    except Exception:  # noqa: BLE001
        return "-", "-", "-", "-"
    try:
        o = im.getexif().get(0x0112)
    except Exception:  # noqa: BLE001
        o = None
    return mode, str(w), str(h), "-" if o is None else str(o)


# ---------------------------------------------------------------------------------------------------------------
# The corpus

ENTRIES = []
NAMES = set()


def add(name, category, covers, data, allow_error=False):
    name = name + ".jpg"
    assert name not in NAMES, name
    assert "\t" not in covers and "\n" not in covers
    NAMES.add(name)
    ENTRIES.append((name, category, covers, data, allow_error))


SUBS_PIL = {0: "444", 1: "422", 2: "420"}


def build():
    # 1. Pillow qualities 1..100: subsampling, content and (small, odd) size vary with the quality.
    sizes = [(16, 16), (23, 17), (31, 9), (8, 24), (40, 30), (13, 13), (33, 18), (19, 41)]
    for q in range(1, 101):
        w, h = sizes[q % len(sizes)]
        kind = KINDS[q % len(KINDS)]
        sub = q % 3
        add("quality_pil_q%03d_%s_%s_%dx%d" % (q, SUBS_PIL[sub], kind, w, h), "quality",
            "Pillow quality=%d subsampling=%s, %s content, %dx%d" % (q, SUBS_PIL[sub], kind, w, h),
            pil(content(kind, w, h, q), quality=q, subsampling=sub))

    # 2. cjpeg qualities, with and without -baseline (q <= 10 without it: 16-bit quantisation tables, SOF1).
    for q in (1, 2, 5, 10, 24, 50, 75, 90, 95, 98, 100):
        for base in ((False, True) if q <= 10 else (False,)):
            a = content("photo", 48, 40, 200 + q)
            args = ["-quality", str(q)] + (["-baseline"] if base else [])
            add("quality_cjpeg_q%03d%s_420_photo_48x40" % (q, "_baseline" if base else ""), "quality",
                "cjpeg -quality %d%s (4:2:0)%s" % (q, " -baseline" if base else "",
                                                  "" if base or q > 10 else ", 16-bit DQT, SOF1"),
                cjpeg(a, *args))

    # 3. Sampling factors libjpeg accepts (cjpeg -sample), at odd, tiny and medium sizes.
    factor_sets = [
        ("1x1,1x1,1x1", "444"), ("2x1,1x1,1x1", "422"), ("2x2,1x1,1x1", "420"), ("1x2,1x1,1x1", "440"),
        ("4x1,1x1,1x1", "411"), ("4x2,1x1,1x1", "4x2"), ("1x4,1x1,1x1", "1x4"), ("2x4,1x1,1x1", "2x4"),
        ("3x1,1x1,1x1", "3x1"), ("1x3,1x1,1x1", "1x3"), ("3x2,1x1,1x1", "3x2"), ("2x3,1x1,1x1", "2x3"),
        ("4x1,2x1,1x1", "4x1_2x1_1x1"), ("4x1,2x1,2x1", "4x1_2x1"), ("2x2,2x1,1x2", "420_mixed_chroma"),
        ("2x2,1x1,2x2", "2x2_1x1_2x2"), ("2x2,2x2,1x1", "2x2_2x2_1x1"), ("1x1,2x2,2x2", "chroma_above_luma"),
        ("1x1,2x1,1x1", "cb_2x1_only"), ("3x2,3x1,1x1", "3x2_3x1_1x1"), ("2x2,2x1,1x1", "2x2_2x1_1x1"),
        ("2x2,1x2,2x1", "420_swapped_mixed"),
    ]
    sample_sizes = [(37, 29), (7, 9), (100, 75)]
    for k, (fs, tag) in enumerate(factor_sets):
        for j, (w, h) in enumerate(sample_sizes):
            kind = ["edges", "saturated", "photo"][j]
            q = [90, 75, 85][j]
            add("sampling_%s_%s_%dx%d" % (tag, kind, w, h), "sampling",
                "cjpeg -sample %s q%d, %s, %dx%d" % (fs, q, kind, w, h),
                cjpeg(content(kind, w, h, 300 + 7 * k + j), "-quality", str(q), "-sample", fs))
    # MCUs of more than 10 blocks need non-interleaved scans (one component per scan).
    for k, fs in enumerate(["4x4,1x1,1x1", "3x3,1x1,1x1", "4x4,2x2,1x1", "4x3,1x1,1x1"]):
        w, h = (45, 37) if k % 2 else (64, 33)
        add("sampling_%s_noninterleaved_photo_%dx%d" % (fs.replace(",", "_"), w, h), "sampling",
            "cjpeg -sample %s with one scan per component (MCU > 10 blocks), %dx%d" % (fs, w, h),
            cjpeg(content("photo", w, h, 380 + k), "-quality", "88", "-sample", fs, scans="0;\n1;\n2;\n"))

    # 4. Progressive: Pillow's and cjpeg's default script, jpegtran conversions, custom scripts.
    for k, (sub, (w, h), kind) in enumerate([(0, (41, 27), "photo"), (1, (64, 48), "edges"), (2, (35, 53), "mixed"),
                                              (2, (255, 257), "photo"), (1, (9, 7), "saturated")]):
        add("progressive_pil_%s_%s_%dx%d" % (SUBS_PIL[sub], kind, w, h), "progressive",
            "Pillow progressive=True subsampling=%s (libjpeg's default script), %s %dx%d" % (SUBS_PIL[sub], kind, w, h),
            pil(content(kind, w, h, 400 + k), quality=80 + k, subsampling=sub, progressive=True))
    for k, fs in enumerate(["2x2,1x1,1x1", "1x1,1x1,1x1", "2x1,1x1,1x1", "1x2,1x1,1x1", "4x1,1x1,1x1", "3x1,1x1,1x1",
                            "4x2,1x1,1x1", "2x2,2x1,1x2"]):
        w, h = [(33, 17), (17, 33), (50, 38), (71, 13)][k % 4]
        add("progressive_cjpeg_%s_%dx%d" % (fs.split(",")[0] + ("_mixed" if k == 7 else ""), w, h), "progressive",
            "cjpeg -progressive -sample %s, %dx%d" % (fs, w, h),
            cjpeg(content(KINDS[k % len(KINDS)], w, h, 420 + k), "-quality", str(70 + 3 * k), "-progressive", "-sample", fs))
    base420 = cjpeg(content("photo", 96, 72, 440), "-quality", "85")
    add("progressive_jpegtran_from_baseline_420_96x72", "progressive", "jpegtran -progressive of a baseline 4:2:0 file",
        jpegtran(base420, "-progressive"))
    add("progressive_jpegtran_optimize_copy_none_96x72", "progressive", "jpegtran -progressive -optimize -copy none",
        jpegtran(base420, "-progressive", "-optimize", "-copy", "none"))

    # Custom scripts: complete ones (no smoothing) ...
    full_spectral = "0 1 2: 0 0 0 0;\n0: 1 5 0 0;\n0: 6 20 0 0;\n0: 21 63 0 0;\n1: 1 63 0 0;\n2: 1 63 0 0;\n"
    full_sa = ("0 1 2: 0 0 0 2;\n0 1 2: 0 0 2 1;\n0 1 2: 0 0 1 0;\n"
               "0: 1 5 0 3;\n0: 6 63 0 2;\n0: 1 5 3 2;\n0: 1 63 2 1;\n0: 1 63 1 0;\n"
               "1: 1 63 0 1;\n1: 1 63 1 0;\n2: 1 63 0 1;\n2: 1 63 1 0;\n")
    dc_separate = "0: 0 0 0 1;\n1: 0 0 0 0;\n2: 0 0 0 0;\n0: 0 0 1 0;\n0: 1 63 0 0;\n1: 1 63 0 0;\n2: 1 63 0 0;\n"
    many_bands = "".join(["0 1 2: 0 0 0 0;\n"] + ["%d: %d %d 0 0;\n" % (c, s, s) for c in range(3) for s in range(1, 64, 1)
                                                    if c == 0 or s <= 2] + ["1: 3 63 0 0;\n2: 3 63 0 0;\n"])
    complete = [("spectral_only", full_spectral, "spectral selection only, complete"),
                ("successive_approx", full_sa, "successive approximation DC 2->1->0, AC 3->2->1->0, complete"),
                ("dc_per_component", dc_separate, "non-interleaved DC scans with DC refinement, complete"),
                ("one_coef_per_scan", many_bands, "luma AC sent one coefficient per scan, complete")]
    # ... and scripts that leave coefficients unsent or unrefined: libjpeg then smooths blocks (jdcoefct.c).
    dc_only = "0 1 2: 0 0 0 0;\n"
    dc_al1 = "0 1 2: 0 0 0 1;\n0: 1 63 0 0;\n1: 1 63 0 0;\n2: 1 63 0 0;\n"
    ac_1_9 = "0 1 2: 0 0 0 0;\n0: 1 9 0 0;\n1: 1 9 0 0;\n2: 1 9 0 0;\n"
    ac_1_5 = "0 1 2: 0 0 0 0;\n0: 1 5 0 0;\n1: 1 5 0 0;\n2: 1 5 0 0;\n"
    ac_unrefined = "0 1 2: 0 0 0 0;\n0: 1 63 0 2;\n1: 1 63 0 1;\n2: 1 63 0 1;\n"
    ac_partially = "0 1 2: 0 0 0 1;\n0 1 2: 0 0 1 0;\n0: 1 63 0 2;\n0: 1 63 2 1;\n1: 1 63 0 0;\n2: 1 63 0 0;\n"
    chroma_dc_only = "0 1 2: 0 0 0 0;\n0: 1 63 0 0;\n"
    luma_10_63_missing_low = "0 1 2: 0 0 0 0;\n0: 10 63 0 0;\n1: 1 63 0 0;\n2: 1 63 0 0;\n"
    dc_al2_ac_2 = "0 1 2: 0 0 0 2;\n0: 1 2 0 1;\n"
    incomplete = [("dc_only", dc_only, "DC only, no AC ever sent"),
                  ("dc_al1_never_refined", dc_al1, "DC sent with Al=1, never refined; AC complete"),
                  ("ac_1_9_only", ac_1_9, "AC 1-9 sent, 10-63 never"),
                  ("ac_1_5_only", ac_1_5, "AC 1-5 sent, 6-63 never"),
                  ("ac_unrefined", ac_unrefined, "AC first scans with Al=2/1, never refined"),
                  ("ac_partially_refined", ac_partially, "luma AC refined to Al=1 only"),
                  ("chroma_dc_only", chroma_dc_only, "luma complete, chroma AC never sent"),
                  ("luma_low_ac_missing", luma_10_63_missing_low, "luma AC 1-9 never sent, 10-63 sent"),
                  ("dc_al2_ac_1_2_al1", dc_al2_ac_2, "DC Al=2 and luma AC 1-2 Al=1 only")]
    script_cases = [("2x2,1x1,1x1", "420", (37, 29)), ("1x1,1x1,1x1", "444", (24, 40)), ("2x1,1x1,1x1", "422", (66, 9)),
                    ("1x2,1x1,1x1", "440", (100, 75)), ("4x1,1x1,1x1", "411", (53, 35))]
    for k, (tag, script, what) in enumerate(complete):
        for j in range(3):
            fs, stag, (w, h) = script_cases[(k + j) % len(script_cases)]
            kind = KINDS[(k + 2 * j) % len(KINDS)]
            add("progressive_script_%s_%s_%s_%dx%d" % (tag, stag, kind, w, h), "progressive",
                "cjpeg -scans (%s) -sample %s, %s %dx%d" % (what, fs, kind, w, h),
                cjpeg(content(kind, w, h, 450 + 10 * k + j), "-quality", str(60 + 9 * j), "-sample", fs, scans=script))
    for k, (tag, script, what) in enumerate(incomplete):
        for j in range(3):
            fs, stag, (w, h) = script_cases[(k + j) % len(script_cases)]
            kind = ["photo", "edges", "gradient", "saturated", "mixed", "noise"][(k + j) % 6]
            add("smoothing_%s_%s_%s_%dx%d" % (tag, stag, kind, w, h), "smoothing",
                "cjpeg -scans (%s: incomplete, libjpeg may smooth blocks) -sample %s, %s %dx%d" % (what, fs, kind, w, h),
                cjpeg(content(kind, w, h, 500 + 10 * k + j), "-quality", str(50 + 15 * j), "-sample", fs, scans=script))
    add("smoothing_dc_only_grey_photo_45x31", "smoothing", "greyscale progressive, DC only (block smoothing)",
        cjpeg(content("photo", 45, 31, 590)[..., 1], "-grayscale", scans="0: 0 0 0 0;\n"))
    add("smoothing_ac_1_5_grey_photo_45x31", "smoothing", "greyscale progressive, AC 1-5 only (block smoothing)",
        cjpeg(content("photo", 45, 31, 591)[..., 0], "-grayscale", scans="0: 0 0 0 0;\n0: 1 5 0 0;\n"))
    add("smoothing_dc_only_photo_320x240", "smoothing", "DC-only 4:2:0, mid-size (block smoothing over many blocks)",
        cjpeg(content("photo", 320, 240, 592), "-quality", "90", scans=dc_only))

    # Sequential (non-progressive) multi-scan files.
    for k, (script, what) in enumerate([("0;\n1;\n2;\n", "one scan per component"),
                                        ("0;\n1 2;\n", "luma scan then interleaved chroma"),
                                        ("2;\n0;\n1;\n", "components in the order Cr, Y, Cb"),
                                        ("1 2;\n0;\n", "chroma first")]):
        fs = ["2x2,1x1,1x1", "2x1,1x1,1x1", "1x1,1x1,1x1", "2x2,1x1,1x1"][k]
        w, h = [(37, 29), (50, 19), (23, 23), (64, 64)][k]
        add("sequential_scans_%d_%dx%d" % (k, w, h), "sequential-scans",
            "baseline, non-interleaved: %s (-sample %s), %dx%d" % (what, fs, w, h),
            cjpeg(content(KINDS[k], w, h, 600 + k), "-sample", fs, scans=script))

    # 5. Optimised Huffman tables.
    for k, sub in enumerate((0, 1, 2)):
        w, h = [(47, 35), (64, 64), (81, 19)][k]
        add("optimize_pil_%s_%dx%d" % (SUBS_PIL[sub], w, h), "optimize", "Pillow optimize=True subsampling=%s" % SUBS_PIL[sub],
            pil(content(KINDS[k + 2], w, h, 700 + k), quality=88, subsampling=sub, optimize=True))
    add("optimize_cjpeg_420_61x47", "optimize", "cjpeg -optimize", cjpeg(content("photo", 61, 47, 710), "-optimize"))
    add("optimize_cjpeg_grey_61x47", "optimize", "cjpeg -optimize -grayscale",
        cjpeg(content("edges", 61, 47, 711), "-optimize", "-grayscale"))
    add("optimize_jpegtran_96x72", "optimize", "jpegtran -optimize of a baseline file", jpegtran(base420, "-optimize"))
    add("optimize_pil_progressive_444_63x45", "optimize", "Pillow optimize + progressive",
        pil(content("mixed", 63, 45, 712), quality=70, subsampling=0, optimize=True, progressive=True))
    add("optimize_noise_q100_444_32x32", "optimize", "cjpeg -optimize q100 noise (long codes)",
        cjpeg(noise(32, 32, 713), "-optimize", "-quality", "100", "-sample", "1x1,1x1,1x1"))

    # 6. Restart intervals (rows and blocks/MCUs).
    restart_cases = [("1", "2x2,1x1,1x1", (61, 45)), ("2", "1x1,1x1,1x1", (33, 50)), ("1B", "2x2,1x1,1x1", (37, 29)),
                     ("3B", "2x1,1x1,1x1", (41, 23)), ("7B", "1x1,1x1,1x1", (57, 17)), ("5B", "4x1,1x1,1x1", (70, 20)),
                     ("100B", "2x2,1x1,1x1", (200, 150)), ("1", "1x2,1x1,1x1", (19, 67)), ("2B", "3x1,1x1,1x1", (47, 11))]
    for k, (r, fs, (w, h)) in enumerate(restart_cases):
        add("restart_%s_%s_%dx%d" % (r, fs.split(",")[0], w, h), "restart", "cjpeg -restart %s -sample %s, %dx%d" % (r, fs, w, h),
            cjpeg(content(KINDS[k % len(KINDS)], w, h, 800 + k), "-restart", r, "-sample", fs))
    add("restart_1B_grey_29x31", "restart", "greyscale -restart 1B (a marker after every block)",
        cjpeg(content("photo", 29, 31, 820)[..., 2], "-grayscale", "-restart", "1B"))
    add("restart_2B_progressive_420_53x37", "restart", "progressive with -restart 2B",
        cjpeg(content("photo", 53, 37, 821), "-progressive", "-restart", "2B"))
    add("restart_1_progressive_sa_444_40x40", "restart", "successive approximation with -restart 1",
        cjpeg(content("edges", 40, 40, 822), "-restart", "1", "-sample", "1x1,1x1,1x1", scans=full_sa))
    add("restart_3B_noninterleaved_37x29", "restart", "one scan per component with -restart 3B",
        cjpeg(content("mixed", 37, 29, 823), "-restart", "3B", scans="0;\n1;\n2;\n"))
    add("restart_1B_optimize_420_48x32", "restart", "-restart 1B -optimize",
        cjpeg(content("photo", 48, 32, 824), "-restart", "1B", "-optimize"))
    add("restart_jpegtran_4B_96x72", "restart", "jpegtran -restart 4B of a baseline file", jpegtran(base420, "-restart", "4B"))

    # 7. Odd sizes.
    odd = [(1, 1), (1, 2), (2, 1), (2, 2), (1, 17), (17, 1), (1, 100), (100, 1), (3, 5), (7, 9), (8, 8), (9, 9),
           (15, 17), (16, 16), (17, 33), (33, 17), (100, 75), (255, 257), (127, 1), (1, 129), (31, 33), (65, 63)]
    subs = [("1x1,1x1,1x1", "444"), ("2x2,1x1,1x1", "420"), ("2x1,1x1,1x1", "422"), ("1x2,1x1,1x1", "440"),
            ("4x1,1x1,1x1", "411")]
    for k, (w, h) in enumerate(odd):
        for j in range(2):
            fs, tag = subs[(k + j) % len(subs)]
            kind = KINDS[(k + j) % len(KINDS)]
            if j == 0:
                data = cjpeg(content(kind, w, h, 900 + k), "-quality", str(60 + k), "-sample", fs)
                how = "cjpeg -sample %s" % fs
            else:
                sub = {"444": 0, "422": 1, "420": 2}.get(tag, 2)
                tag = SUBS_PIL[sub]
                data = pil(content(kind, w, h, 950 + k), quality=70 + k, subsampling=sub)
                how = "Pillow subsampling=%s" % tag
            add("size_%dx%d_%s_%s%s" % (w, h, tag, kind, "_pil" if j else ""), "size", "%dx%d, %s, %s" % (w, h, how, kind), data)

    # 8. Greyscale.
    for k, (w, h) in enumerate([(1, 1), (13, 7), (64, 48), (99, 101)]):
        add("grey_pil_L_%dx%d" % (w, h), "grey", "Pillow mode L q%d, %dx%d" % (50 + 12 * k, w, h),
            pil(content("photo", w, h, 1000 + k), mode="L", quality=50 + 12 * k))
    for k, (args, what) in enumerate([(["-grayscale"], "cjpeg -grayscale"), (["-grayscale", "-progressive"], "progressive"),
                                       (["-grayscale", "-sample", "2x2"], "single component sampled 2x2"),
                                       (["-grayscale", "-sample", "1x2"], "single component sampled 1x2"),
                                       (["-grayscale", "-sample", "3x1", "-restart", "1B"], "3x1 + restart 1B"),
                                       (["-grayscale", "-quality", "100"], "q100"),
                                       (["-grayscale", "-quality", "3"], "q3 (16-bit DQT)"),
                                       (["-grayscale", "-quality", "60", "-optimize"], "optimised")]):
        w, h = [(41, 33), (37, 50), (29, 31), (23, 9)][k % 4]
        add("grey_cjpeg_%d_%s_%dx%d" % (k, KINDS[k % len(KINDS)], w, h), "grey", "%s, %dx%d" % (what, w, h),
            cjpeg(content(KINDS[k % len(KINDS)], w, h, 1010 + k), *args))
    add("grey_from_rgb_photo_pil_444_q90_48x48", "grey", "Pillow RGB JPEG of a grey picture (R=G=B)",
        pil(np.repeat(content("photo", 48, 48, 1020)[..., :1], 3, axis=2), quality=90, subsampling=0))

    # 9. RGB colour space (no YCbCr transform).
    for k, (args, what) in enumerate([(["-rgb"], "cjpeg -rgb (Adobe transform 0, ids R,G,B)"),
                                       (["-rgb", "-progressive"], "-rgb -progressive"),
                                       (["-rgb", "-sample", "2x2,1x1,1x1"], "-rgb with G and B subsampled 2x2"),
                                       (["-rgb", "-quality", "40", "-restart", "2B"], "-rgb q40 -restart 2B")]):
        w, h = [(37, 29), (50, 33), (29, 45), (64, 17)][k]
        add("rgb_cjpeg_%d_%dx%d" % (k, w, h), "rgb", "%s, %dx%d" % (what, w, h),
            cjpeg(content(["saturated", "photo", "edges", "mixed"][k], w, h, 1100 + k), *args))
    rgb = cjpeg(content("saturated", 33, 21, 1110), "-rgb")
    add("rgb_ids_without_adobe_33x21", "rgb", "-rgb file without its Adobe APP14: colour space from the ids 'R','G','B'",
        remove_segment(rgb, 0xEE))
    ycc = pil(content("photo", 33, 21, 1111), quality=80, subsampling=0)
    add("rgb_adobe_transform0_on_ycc_ids_33x21", "rgb",
        "YCbCr data with JFIF removed and an Adobe transform=0 segment: libjpeg treats it as RGB",
        insert_after_soi(remove_segment(ycc, 0xE0), app(0xEE, b"Adobe" + struct.pack(">HHHB", 100, 0, 0, 0))))

    # Colour-space detection (jdapimin.c default_decompress_parms): JFIF vs Adobe transform vs component ids.
    adobe1 = app(0xEE, b"Adobe" + struct.pack(">HHHB", 100, 0, 0, 1))
    jfif = app(0xE0, b"JFIF\0" + bytes([1, 1, 0, 0, 1, 0, 1, 0, 0]))
    rgbd = cjpeg(content("photo", 29, 19, 1112), "-rgb")
    add("rgb_data_with_jfif_and_adobe0_29x19", "rgb", "-rgb data (ids R,G,B, Adobe transform 0) with a JFIF APP0 added",
        insert_after_soi(rgbd, jfif))
    add("rgb_data_ids_rgb_adobe1_29x19", "rgb", "-rgb data whose Adobe transform says 1 (YCbCr) over ids R,G,B",
        insert_after_soi(remove_segment(rgbd, 0xEE), adobe1))
    yd = remove_segment(pil(content("photo", 29, 19, 1113), quality=85, subsampling=2), 0xE0)
    m_, offy, lny = sof(yd)
    ids_rgb = bytearray(yd)
    for k, cid in enumerate(b"RGB"):
        ids_rgb[offy + 10 + 3 * k] = cid
    sos_m, sos_off, sos_len = find(bytes(ids_rgb), 0xDA)
    for k, cid in enumerate(b"RGB"):
        ids_rgb[sos_off + 5 + 2 * k] = cid
    add("rgb_ycc_data_with_ids_rgb_29x19", "rgb", "YCbCr 4:2:0 data, no JFIF or Adobe, component ids 'R','G','B' (libjpeg reads it as RGB)",
        bytes(ids_rgb))
    add("rgb_ycc_data_with_ids_rgb_adobe1_29x19", "rgb", "the same with an Adobe transform 1 segment (YCbCr again)",
        insert_after_soi(bytes(ids_rgb), adobe1))

    # 10. CMYK (Pillow: Adobe, inverted) and YCCK/CMYK from tools/jpeg/cmykenc.c.
    for k, (w, h) in enumerate([(1, 1), (19, 13), (48, 32), (64, 47)]):
        cm = np.asarray(Image.fromarray(content(KINDS[k], w, h, 1200 + k)).convert("CMYK"))
        add("cmyk_pil_%s_%dx%d" % (KINDS[k], w, h), "cmyk", "Pillow mode CMYK q%d (Adobe, inverted), %dx%d" % (70 + 8 * k, w, h),
            pil(cm, quality=70 + 8 * k))
    cmk = np.random.RandomState(1210).randint(0, 256, (29, 37, 4)).astype(np.uint8)
    cmk[..., 3] //= 2
    add("cmyk_pil_progressive_37x29", "cmyk", "Pillow CMYK progressive", pil(cmk, quality=85, progressive=True))
    for k, (mode, extra, what) in enumerate([("ycck", [], "YCCK (Adobe transform 2)"),
                                             ("ycck", ["2x2,1x1,1x1,2x2"], "YCCK with Y and K 2x2"),
                                             ("ycck", ["2x1,1x1,1x1,1x1", "progressive"], "YCCK 2x1 progressive"),
                                             ("cmyk", [], "CMYK Adobe transform 0 (not inverted by the encoder)"),
                                             ("cmyk-noadobe", [], "CMYK without an Adobe marker"),
                                             ("ycck", ["1x1,1x1,1x1,1x1"], "YCCK, q30")]):
        w, h = [(33, 25), (37, 29), (50, 19), (16, 16), (21, 13), (64, 48)][k]
        c = np.asarray(Image.fromarray(content(KINDS[(k + 1) % len(KINDS)], w, h, 1220 + k)).convert("CMYK")).copy()
        c[..., 3] = np.random.RandomState(k).randint(0, 200, (h, w))
        q = 30 if k == 5 else 85
        add("%s_cmykenc_%d_%dx%d" % ("ycck" if mode == "ycck" else "cmyk", k, w, h), "ycck" if mode == "ycck" else "cmyk",
            "tools/jpeg/cmykenc.c: %s q%d, %dx%d" % (what, q, w, h), cmykenc(c, q, mode, *extra))

    # 11. EXIF orientations 1..8 over several encodings.
    variants = [("444_41x23", dict(quality=90, subsampling=0), (41, 23)),
                ("420_37x29", dict(quality=85, subsampling=2), (37, 29)),
                ("422_progressive_25x17", dict(quality=80, subsampling=1, progressive=True), (25, 17)),
                ("grey_19x31", dict(mode="L", quality=90), (19, 31)),
                ("cmyk_13x7", dict(mode="CMYK", quality=90), (13, 7))]
    for o in range(1, 9):
        for k, (tag, kw, (w, h)) in enumerate(variants):
            add("exif_o%d_%s" % (o, tag), "exif", "EXIF Orientation=%d, %s" % (o, tag.replace("_", " ")),
                pil(content(["photo", "edges", "mixed", "gradient", "saturated"][k], w, h, 1300 + 10 * o + k),
                    exif=exif_bytes(o, extra=(k % 2 == 1)), **kw))
    for o, what in [(None, "EXIF without an Orientation tag"), (0, "Orientation=0 (invalid, ignored)"),
                    (9, "Orientation=9 (invalid, ignored)")]:
        add("exif_%s_31x17" % ("none" if o is None else "o%d" % o), "exif", what,
            pil(content("photo", 31, 17, 1390 + (o or 0)), quality=90, exif=exif_bytes(o, extra=True)))
    e6 = exif_bytes(6)
    add("exif_o6_cjpeg_restart_33x21", "exif", "Orientation=6 APP1 spliced into a cjpeg -restart 1B file",
        insert_after_soi(remove_segment(cjpeg(content("photo", 33, 21, 1395), "-restart", "1B"), 0xE0),
                         app(0xE1, b"Exif\0\0" + e6)))
    add("exif_o8_4x1_sampling_45x21", "exif", "Orientation=8 with 4:1:1 (odd size, odd chroma width)",
        insert_after_soi(cjpeg(content("edges", 45, 21, 1396), "-sample", "4x1,1x1,1x1"), app(0xE1, b"Exif\0\0" + exif_bytes(8))))

    # 12. Content stress at mid size (clipping, noise, edges, photos).
    mids = [("photo", 640, 480, 85, 2, False), ("photo", 400, 300, 95, 0, False), ("mixed", 320, 240, 75, 2, True),
            ("noise", 160, 120, 92, 2, False), ("saturated", 200, 150, 90, 2, False), ("saturated", 96, 96, 100, 0, False),
            ("edges", 256, 192, 50, 1, False), ("gradient", 300, 200, 95, 2, False), ("noise", 64, 64, 100, 0, False),
            ("saturated", 120, 90, 20, 2, True)]
    for k, (kind, w, h, q, sub, prog) in enumerate(mids):
        add("content_%s_%dx%d_q%d_%s%s" % (kind, w, h, q, SUBS_PIL[sub], "_progressive" if prog else ""), "content",
            "Pillow q%d %s %s, %dx%d%s" % (q, SUBS_PIL[sub], kind, w, h, " progressive" if prog else ""),
            pil(content(kind, w, h, 1400 + k), quality=q, subsampling=sub, progressive=prog))
    a = np.zeros((48, 64, 3), np.uint8)
    a[:, ::2] = (255, 0, 0)
    a[:, 1::2] = (0, 0, 255)
    a[::3] = (255, 255, 0)
    add("content_clip_stripes_420_q100_64x48", "content", "1-pixel red/blue/yellow stripes, 4:2:0 q100 (chroma clipping)",
        cjpeg(a, "-quality", "100"))
    add("content_clip_stripes_411_q95_64x48", "content", "the same stripes in 4:1:1 q95", cjpeg(a, "-quality", "95", "-sample", "4x1,1x1,1x1"))
    add("content_black_1x1_q100", "content", "a black pixel", pil(np.zeros((1, 1, 3), np.uint8), quality=100))
    add("content_white_17x17_q100", "content", "white", pil(np.full((17, 17, 3), 255, np.uint8), quality=100, subsampling=2))

    # 13. Markers and containers.
    body = pil(content("photo", 35, 27, 1500), quality=85, subsampling=2)
    add("markers_com_and_apps_35x27", "markers", "COM and APP2..APP15 segments (non-Adobe, non-EXIF) before DQT",
        insert_after_soi(body, b"".join([app(0xFE, b"comment " * 3)] + [app(n, b"APP%d data" % (n - 0xE0))
                                                                        for n in range(0xE2, 0xF0) if n != 0xEE])))
    add("markers_fill_bytes_35x27", "markers", "0xFF fill bytes before each marker",
        b"".join([body[:2]] + [b"\xff\xff\xff" + body[off:off + ln] for (m, off, ln) in segments(body)]
                 + [body[scan_start(body):]]))
    add("markers_icc_profile_35x27", "markers", "an ICC profile (ignored by convert)",
        pil(content("photo", 35, 27, 1500), quality=85, subsampling=2, icc_profile=b"\0" * 128 + b"acsp" + b"\0" * 400))
    add("markers_com_after_sos_region_35x27", "markers", "COM segment between DHT and SOS",
        body[:find(body, 0xDA)[1]] + app(0xFE, b"late comment") + body[find(body, 0xDA)[1]:])
    add("markers_no_jfif_35x27", "markers", "no JFIF APP0 (ids 1,2,3: YCbCr)", remove_segment(body, 0xE0))
    add("markers_dri_zero_35x27", "markers", "a DRI segment with interval 0 (restart disabled)",
        body[:find(body, 0xDA)[1]] + b"\xff\xdd\x00\x04\x00\x00" + body[find(body, 0xDA)[1]:])
    add("markers_trailing_garbage_35x27", "markers", "bytes after EOI", body + b"trailing garbage" * 4)

    # 14. Lossless transforms (jpegtran).
    src = cjpeg(content("photo", 45, 35, 1600), "-quality", "80")
    for t in (["-rotate", "90"], ["-rotate", "270", "-trim"], ["-flip", "horizontal"], ["-transpose"], ["-crop", "23x17+5+3"]):
        add("transform_%s_45x35" % "_".join(x.strip("-").replace("+", "p") for x in t), "transform",
            "jpegtran %s (edge blocks kept unless -trim)" % " ".join(t), jpegtran(src, *t))

    # 15. Arithmetic coding: Pillow's libjpeg-turbo decodes it; issue 15 allows a clear error instead.
    for k, (args, what) in enumerate([(["-arithmetic"], "4:2:0"), (["-arithmetic", "-sample", "1x1,1x1,1x1"], "4:4:4"),
                                       (["-arithmetic", "-progressive"], "progressive"),
                                       (["-arithmetic", "-restart", "2B"], "restart 2B"),
                                       (["-arithmetic", "-grayscale"], "grey")]):
        add("arithmetic_%d_%dx%d" % (k, 33 + k, 25), "arithmetic", "cjpeg %s (%s)" % (" ".join(args), what),
            cjpeg(content("photo", 33 + k, 25, 1700 + k), *args), allow_error=True)

    # 16. Unsupported: precision, lossless/hierarchical SOF, component counts, fractional sampling, DNL height 0.
    base = cjpeg(content("photo", 24, 16, 1800), "-quality", "80")
    m, off, ln = sof(base)
    add("unsupported_precision12", "unsupported", "SOF precision byte set to 12 (12-bit JPEG)", patch(base, off + 4, [12]))
    add("unsupported_precision16", "unsupported", "SOF precision byte set to 16", patch(base, off + 4, [16]))
    add("unsupported_sof3_lossless", "unsupported", "marker SOF3 (lossless)", patch(base, off + 1, [0xC3]))
    add("unsupported_sof5_hierarchical", "unsupported", "marker SOF5 (hierarchical)", patch(base, off + 1, [0xC5]))
    ari = cjpeg(content("photo", 24, 16, 1801), "-arithmetic")
    add("unsupported_sof9_precision12", "unsupported", "arithmetic SOF9 with precision 12", patch(ari, sof(ari)[1] + 4, [12]))
    add("unsupported_height0_dnl", "unsupported", "SOF height 0 (needs a DNL marker)", patch(base, off + 5, [0, 0]))
    add("unsupported_width0", "unsupported", "SOF width 0", patch(base, off + 7, [0, 0]))
    s31 = cjpeg(content("photo", 30, 16, 1802), "-sample", "3x1,1x1,1x1")
    m3, off3, ln3 = sof(s31)
    add("unsupported_fractional_sampling_3x1_2x1", "unsupported", "sampling 3x1,2x1,1x1 (fractional upsampling)",
        patch(s31, off3 + 10 + 3 + 1, [0x21]))
    add("unsupported_sampling_5x1", "unsupported", "sampling factor 5 (above 4)", patch(base, off + 10 + 1, [0x51]))
    add("unsupported_sampling_0x1", "unsupported", "sampling factor 0", patch(base, off + 10 + 1, [0x01]))
    g = cjpeg(content("photo", 16, 16, 1803)[..., 0], "-grayscale")
    mg, offg, lng = sof(g)
    two = g[:offg] + b"\xff\xc0" + struct.pack(">HBHHB", 8 + 3 * 2, 8, 16, 16, 2) + b"\x01\x11\x00\x02\x11\x00" + g[offg + lng:]
    add("unsupported_two_components", "unsupported", "a 2-component frame", two)

    # 17. Truncated files: cut at several points of several kinds of file.
    trunc_src = [("baseline_420", pil(content("photo", 64, 48, 1900), quality=85, subsampling=2)),
                 ("progressive_444", pil(content("photo", 48, 40, 1901), quality=85, subsampling=0, progressive=True)),
                 ("restart_1B", cjpeg(content("edges", 40, 32, 1902), "-restart", "1B")),
                 ("grey", pil(content("photo", 40, 40, 1903), mode="L", quality=85)),
                 ("cmyk", pil(content("photo", 24, 24, 1904), mode="CMYK", quality=85)),
                 ("exif_o6", pil(content("photo", 40, 30, 1905), quality=85, exif=exif_bytes(6)))]
    for tag, d in trunc_src:
        s = scan_start(d)
        ent = len(d) - s
        cuts = [("soi_only", 2), ("mid_header", s // 2), ("at_sos_data", s), ("entropy_25pct", s + ent // 4),
                ("entropy_50pct", s + ent // 2), ("entropy_90pct", s + ent * 9 // 10), ("no_eoi", len(d) - 2),
                ("half_eoi", len(d) - 1)]
        if tag != "baseline_420":
            cuts = [c for c in cuts if c[0] in ("mid_header", "at_sos_data", "entropy_50pct", "no_eoi", "half_eoi")]
        for ctag, n in cuts:
            add("truncated_%s_%s" % (tag, ctag), "truncated", "%s cut to %d of %d bytes (%s)" % (tag, n, len(d), ctag),
                d[:n])

    # 18. Corrupt files.
    c = pil(content("photo", 40, 32, 2000), quality=85, subsampling=2)
    s = scan_start(c)
    mq, offq, lnq = find(c, 0xDB)
    mh, offh, lnh = find(c, 0xC4)
    msos, offsos, lnsos = find(c, 0xDA)
    msf, offsf, lnsf = sof(c)
    add("corrupt_no_soi", "corrupt", "first two bytes not SOI", patch(c, 0, b"\x00\x00"))
    add("corrupt_bad_marker_after_soi", "corrupt", "an invalid marker 0xFF01 after SOI", insert_after_soi(c, b"\xff\x01\x00\x04ab"))
    add("corrupt_dht_counts_overflow", "corrupt", "DHT whose code counts sum above 256", patch(c, offh + 5, [0xFF] * 16))
    add("corrupt_dht_bad_class", "corrupt", "DHT table class/id byte 0x25", patch(c, offh + 4, [0x25]))
    add("corrupt_dqt_table_id_5", "corrupt", "DQT table id 5", patch(c, offq + 4, [0x05]))
    add("corrupt_sof_undefined_qtable", "corrupt", "SOF component uses quantisation table 3 (never defined)",
        patch(c, offsf + 10 + 2, [3]))
    add("corrupt_sos_undefined_huffman", "corrupt", "SOS selects Huffman tables 3/3 (never defined)",
        patch(c, offsos + 6, [0x33]))
    add("corrupt_sos_unknown_component", "corrupt", "SOS names component id 9", patch(c, offsos + 5, [9]))
    add("corrupt_segment_length_past_end", "corrupt", "a segment length running past the end of the file",
        patch(c, offq + 2, [0xFF, 0xF0]))
    add("corrupt_segment_length_1", "corrupt", "a segment length of 1", patch(c, offq + 2, [0, 1]))
    add("corrupt_no_sos", "corrupt", "SOS and entropy data removed (header then EOI)", c[:offsos] + b"\xff\xd9")
    add("corrupt_no_sof", "corrupt", "SOF removed", c[:offsf] + c[offsf + lnsf:])
    add("corrupt_sos_ss_gt_se", "corrupt", "baseline SOS with Ss=1, Se=0", patch(c, s - 3, [1, 0]))
    flip = bytearray(c)
    for i in np.random.RandomState(2001).randint(s, len(c) - 2, 12):
        if flip[i] != 0xFF and flip[i] ^ 0x5A != 0xFF:
            flip[i] ^= 0x5A
    add("corrupt_entropy_bytes_flipped", "corrupt", "12 entropy-coded bytes XORed (libjpeg only warns; error allowed)",
        bytes(flip), allow_error=True)
    r = cjpeg(content("photo", 40, 32, 2002), "-restart", "1B")
    ri = r.index(b"\xff\xd1", scan_start(r))
    add("corrupt_restart_marker_wrong_number", "corrupt", "RST1 replaced by RST5 (libjpeg resyncs, warns; error allowed)",
        patch(r, ri + 1, [0xD5]), allow_error=True)
    add("corrupt_entropy_zeroed_tail", "corrupt", "last half of the entropy data zeroed (EOI kept; libjpeg warns of a premature end and fills; error allowed)",
        c[:s + (len(c) - s) // 2] + bytes(len(c) - 2 - s - (len(c) - s) // 2) + b"\xff\xd9", allow_error=True)
    add("corrupt_sof_huge_size", "corrupt", "SOF declares 65535x65535 (data far too short)", patch(c, offsf + 5, [0xFF] * 4))


def main():
    check = "--check" in sys.argv
    build()
    lines = ["#file\tcategory\tcovers\tmode\twidth\theight\torientation\ton\toff\tallow_error"]
    total = 0
    counts = {}
    changed = []
    for name, cat, covers, data, allow in ENTRIES:
        mode, w, h, o = pillow_info(data)
        on = pillow_result(data, True)
        off = pillow_result(data, False)
        if on.startswith("sha256:"):
            covers += smoothing_note(data)
        lines.append("\t".join([name, cat, covers, mode, w, h, o, on, off, "1" if allow else "0"]))
        total += len(data)
        counts[cat] = counts.get(cat, 0) + 1
        path = os.path.join(OUT, name)
        if check:
            if not os.path.exists(path) or open(path, "rb").read() != data:
                changed.append(name)
        else:
            os.makedirs(OUT, exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
    manifest = "\n".join(lines) + "\n"
    mpath = os.path.join(OUT, "manifest.tsv")
    if check:
        if open(mpath).read() != manifest:
            changed.append("manifest.tsv")
        if changed:
            sys.exit("jpeg_corpus: %d files differ: %s" % (len(changed), ", ".join(changed[:10])))
        print("jpeg_corpus: %d files and the manifest match" % len(ENTRIES))
        return
    for f in os.listdir(OUT):
        if f.endswith(".jpg") and f not in NAMES:
            os.remove(os.path.join(OUT, f))
    with open(mpath, "w") as f:
        f.write(manifest)
    # The same checks on files our decoders already match Pillow on (the PNGs of
    # data/images): proves the test harness before the JPEG decoder lands.
    hl = [lines[0]]
    for f in sorted(os.listdir(SOURCES)):
        if f.endswith(".png"):
            data = open(os.path.join(SOURCES, f), "rb").read()
            mode, w, h, o = pillow_info(data)
            hl.append("\t".join(["../../images/" + f, "harness", "repo sample image", mode, w, h, o,
                                  pillow_result(data, True), pillow_result(data, False), "0"]))
    with open(os.path.join(OUT, "..", "harness.tsv"), "w") as f:
        f.write("\n".join(hl) + "\n")
    errors = sum(1 for l in lines[1:] if "\terror:" in l)
    print("jpeg_corpus: %d files, %.1f KB, %d with an error outcome; per category: %s" % (
        len(ENTRIES), total / 1024, errors, ", ".join("%s %d" % kv for kv in counts.items())))


if __name__ == "__main__":
    main()
