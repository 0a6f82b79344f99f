#!/usr/bin/python3
"""Builds the JPEG entropy-decoder fixtures: tests/AotVit.Tests/data/jpeg/entropy/*.jpg and coefdump.sha256, the
SHA-256 of libjpeg-turbo's coefficient dump (tools/jpeg/coefdump.c) of each file, so the test needs no libjpeg.

Needs: cjpeg (libjpeg-turbo-progs), gcc + libjpeg62-turbo-dev, /usr/bin/python3 with Pillow and numpy.
    /usr/bin/python3 tools/jpeg/make_entropy_fixtures.py
Every file is made from seeded synthetic images, so a rerun writes the same bytes. Files are encoded by cjpeg
(sampling factors, progressive and custom scan scripts with successive approximation, restart intervals, optimized
and 16-bit tables, grey, RGB), by a small libjpeg program (CMYK, YCCK), by Pillow, and by byte surgery on those
(Huffman tables left out as Motion-JPEG does, a quantisation table redefined between scans, extraneous bytes and fill
bytes before markers, component ids without JFIF/Adobe markers). arith_*.jpg (arithmetic-coded) and corrupt_*.jpg are
for refusal tests and have no hash.
"""
import hashlib
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "AotVit.Tests", "data", "jpeg", "entropy")
TMP = tempfile.mkdtemp(prefix="entropy_fixtures_")


def sh(*args):
    subprocess.run(args, check=True)


def tool(name):
    exe = os.path.join(TMP, name)
    sh("gcc", "-O2", "-o", exe, os.path.join(ROOT, "tools", "jpeg", name + ".c"), "-ljpeg")
    return exe


COEFDUMP = tool("coefdump")
CMYKENC = tool("cmykenc")


def cmyk_pattern(w, h):
    """Raw interleaved CMYK: ramps in C and M, a noisy diagonal in Y, a product pattern in K. The noise is a 32-bit
    linear congruential generator (seed 12345), so the bytes are the same on every machine."""
    out = bytearray(w * h * 4)
    seed = 12345
    for y in range(h):
        for x in range(w):
            seed = (seed * 1103515245 + 12345) & 0xFFFFFFFF
            n = (seed >> 16) & 15
            i = 4 * (y * w + x)
            out[i] = (x * 255) // (w - 1 if w > 1 else 1)
            out[i + 1] = (y * 255) // (h - 1 if h > 1 else 1)
            out[i + 2] = ((x + y) * 4 + n) & 255
            out[i + 3] = ((x * y) >> 3) & 255
    return bytes(out)


def cmykenc(name, w, h, mode, quality, *extra):
    """tools/jpeg/cmykenc.c on cmyk_pattern(w, h): Adobe CMYK (mode cmyk) or YCCK (mode ycck)."""
    with open(os.path.join(OUT, name + ".jpg"), "wb") as out:
        subprocess.run([CMYKENC, str(w), str(h), str(quality), mode, *extra], input=cmyk_pattern(w, h), stdout=out,
                       check=True)


def picture(w, h, seed, grey=False):
    """A photo-like test picture: gradients, a few sinusoids, edges and noise."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    chans = []
    for c in range(1 if grey else 3):
        fx, fy = rng.uniform(0.02, 0.3, 2)
        v = 128 + 60 * np.sin(x * fx + c) * np.cos(y * fy - c) + 40 * (x / max(w, 1) - 0.5)
        v += np.where((x // 13 + y // 11) % 3 == 0, 35, -20)
        v += rng.normal(0, 12, (h, w))
        chans.append(v)
    a = np.clip(np.stack(chans, axis=-1), 0, 255).astype(np.uint8)
    return a[..., 0] if grey else a


def source(w, h, seed, grey=False):
    path = os.path.join(TMP, f"src_{w}x{h}_{seed}_{int(grey)}.{'pgm' if grey else 'ppm'}")
    if not os.path.exists(path):
        Image.fromarray(picture(w, h, seed, grey)).save(path)
    return path


def script(name, text):
    path = os.path.join(TMP, name + ".txt")
    with open(path, "w") as f:
        f.write(text)
    return path


def scans(name):
    """A cjpeg -scans file of tools/jpeg/scans (one scan per line: components: Ss-Se, Ah, Al;)."""
    return os.path.join(ROOT, "tools", "jpeg", "scans", name + ".txt")


def cjpeg(name, w, h, *args, seed=1, grey=False):
    out = os.path.join(OUT, name + ".jpg")
    src = source(w, h, seed, grey)
    sh("cjpeg", *args, "-outfile", out, src)
    return out


def read(name):
    with open(os.path.join(OUT, name + ".jpg"), "rb") as f:
        return f.read()


def write(name, data):
    with open(os.path.join(OUT, name + ".jpg"), "wb") as f:
        f.write(data)


def segments(data):
    """(marker, start, end) of each marker segment before the first SOS, and the SOS offset."""
    out, p = [], 2
    while True:
        assert data[p] == 0xFF
        m = data[p + 1]
        if m == 0xDA:
            return out, p
        n = struct.unpack(">H", data[p + 2:p + 4])[0]
        out.append((m, p, p + 2 + n))
        p += 2 + n


def scan_ranges(data):
    """(start, end) of each scan: from the tables (DHT/DQT/DRI) just before its SOS to the marker after its data."""
    _, p = segments(data)
    ranges, start = [], None
    while p < len(data) - 1:
        m = data[p + 1]
        if start is None:
            start = p
        if m == 0xD9:
            break
        n = struct.unpack(">H", data[p + 2:p + 4])[0]
        p += 2 + n
        if m != 0xDA:
            continue
        while not (data[p] == 0xFF and data[p + 1] not in (0x00, 0xFF) and not 0xD0 <= data[p + 1] <= 0xD7):
            p += 1
        ranges.append((start, p))
        start = None
    return ranges









# 16-bit quantisation values (above 255 makes libjpeg write 16-bit DQT entries and SOF1).
QTABLES = " ".join(str(300 + 7 * i) for i in range(64)) + "\n" + " ".join(str(2 + i) for i in range(64)) + "\n"


def build():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".jpg") or f.endswith(".sha256"):
            os.remove(os.path.join(OUT, f))

    # Baseline, every sampling layout cjpeg writes (the third is luma 3x1, 4x2 fills a 10-block MCU).
    for s, tag in [("1x1", "444"), ("2x1", "422"), ("2x2", "420"), ("1x2", "440"), ("4x1", "411"),
                   ("4x2", "42"), ("3x1", "31"), ("1x4", "14")]:
        cjpeg(f"base_{tag}_100x75", 100, 75, "-sample", s, "-quality", "80")
    cjpeg("base_mixed_61x47", 61, 47, "-sample", "1x2,2x1,1x1", "-quality", "85", seed=2)
    cjpeg("base_1x1", 1, 1, "-quality", "90", seed=3)
    cjpeg("base_7x9_420", 7, 9, "-sample", "2x2", seed=4)
    cjpeg("base_17x33_422", 17, 33, "-sample", "2x1", seed=5)
    cjpeg("base_33x17_411", 33, 17, "-sample", "4x1", seed=6)
    cjpeg("base_q100_444", 64, 48, "-sample", "1x1", "-quality", "100", seed=7)
    cjpeg("base_q5_420", 100, 75, "-quality", "5", seed=8)
    cjpeg("base_opt_420", 100, 75, "-optimize", "-quality", "92", seed=9)
    qt = script("qtables", QTABLES)
    cjpeg("ext_16bit_qt", 48, 40, "-qtables", qt, "-qslots", "0,1,1", seed=10)
    cjpeg("grey_100x75", 100, 75, "-grayscale", seed=11)
    cjpeg("grey_7x9", 7, 9, "-grayscale", seed=12, grey=True)
    cjpeg("grey_sampled_2x2", 37, 29, "-grayscale", "-sample", "2x2", seed=13, grey=True)
    cjpeg("rgb_100x75", 100, 75, "-rgb", "-quality", "90", seed=14)

    # Restart intervals: whole MCU rows, and block counts that do not divide the rows.
    cjpeg("rst_row_420", 100, 75, "-restart", "1", seed=15)
    cjpeg("rst_7b_422", 131, 67, "-sample", "2x1", "-restart", "7B", seed=16)
    cjpeg("rst_1b_444", 40, 24, "-sample", "1x1", "-restart", "1B", seed=17)
    cjpeg("rst_grey_5b", 45, 45, "-grayscale", "-restart", "5B", seed=18, grey=True)

    # Progressive: libjpeg's default script, custom scripts with successive approximation, one that never
    # completes some coefficients, non-interleaved DC scans; with restarts (EOB runs cut by intervals).
    cjpeg("prog_420", 100, 75, "-progressive", seed=19)
    cjpeg("prog_444_odd", 51, 37, "-progressive", "-sample", "1x1", "-quality", "95", seed=20)
    cjpeg("prog_grey", 64, 40, "-progressive", "-grayscale", seed=21, grey=True)
    cjpeg("prog_rst_3b", 100, 75, "-progressive", "-restart", "3B", seed=22)
    cjpeg("prog_rst_row", 77, 55, "-progressive", "-restart", "1", "-sample", "2x1", seed=23)
    cjpeg("prog_sa", 100, 75, "-scans", scans("sa"), seed=24)
    cjpeg("prog_deep_sa", 80, 64, "-scans", scans("deep_sa"), "-quality", "97", seed=25)
    cjpeg("prog_deep_sa_rst", 80, 64, "-scans", scans("deep_sa"), "-quality", "97",
          "-restart", "2B", seed=26)
    cjpeg("prog_incomplete", 100, 75, "-scans", scans("incomplete"), seed=27)
    cjpeg("prog_dc_noninterleaved", 70, 50, "-scans", scans("noninterleaved_dc"), seed=28)
    cjpeg("prog_grey_sa", 50, 31, "-grayscale", "-scans", scans("grey_sa"), seed=29, grey=True)
    cjpeg("prog_opt_411", 90, 30, "-progressive", "-optimize", "-sample", "4x1", seed=30)

    # Sequential files with several scans.
    cjpeg("seq_3scans_420", 100, 75, "-scans", scans("seq_3scans"), seed=31)
    cjpeg("seq_2plus1_422", 57, 43, "-scans", scans("seq_2plus1"), "-sample", "2x1", seed=32)
    cjpeg("seq_3scans_rst", 60, 40, "-scans", scans("seq_3scans"), "-restart", "3B", seed=33)

    # Four components.
    cmykenc("cmyk_base", 45, 30, "cmyk", 85)
    cmykenc("ycck_base", 45, 30, "ycck", 85)
    cmykenc("cmyk_prog", 33, 21, "cmyk", 90, "progressive")

    # Pillow's encoder (what most test images come from).
    Image.fromarray(picture(120, 90, 34)).save(os.path.join(OUT, "pil_q92_420.jpg"), quality=92)
    Image.fromarray(picture(120, 90, 35)).save(os.path.join(OUT, "pil_prog_opt_444.jpg"), quality=90,
                                               progressive=True, optimize=True, subsampling=0)

    # Byte surgery. Huffman tables left out (libjpeg installs the Annex K tables for a sequential file).
    data = read("base_420_100x75")
    segs, _ = segments(data)
    write("surg_no_dht", b"".join([data[:2]] + [data[a:b] for m, a, b in segs if m != 0xC4]) +
          data[segments(data)[1]:])

    # A quantisation table redefined between scans: Cb and Cr share slot 1; the Cr scan is preceded by a new
    # table 1, which libjpeg latches for Cr only.
    data = read("seq_3scans_420")
    sos = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xDA]
    newq = bytes([0xFF, 0xDB, 0x00, 0x43, 0x01]) + bytes(range(3, 67))
    write("surg_dqt_between_scans", data[:sos[2]] + newq + data[sos[2]:])

    # Extraneous bytes and fill bytes before markers (libjpeg warns and skips them; same coefficients).
    data = read("rst_row_420")
    rst = [i for i in range(len(data) - 1) if data[i] == 0xFF and 0xD0 <= data[i + 1] <= 0xD7]
    out = bytearray(data)
    out[rst[1]:rst[1]] = b"\xFF\xFF\xFF"           # fill bytes before RST1
    out[rst[0]:rst[0]] = b"\x12\x34\xFF\x00\x56"   # garbage (with a stuffed FF) before RST0
    eoi = len(out) - 2
    out[eoi:eoi] = b"\x00\x00\xAB"                 # garbage before EOI
    write("surg_extraneous", bytes(out))

    # FF FF ... 00 inside entropy-coded data (not allowed by T.81): libjpeg's slow path reads one FF data byte, which is
    # all it uses for progressive scans and sequential scans with restarts (hashed); in other sequential scans its fast
    # path sees a marker and leaves zero-bit garbage in the MCU, so the result depends on its buffering (corrupt_:
    # refused, no hash).
    for src, name in [("base_q100_444", "corrupt_ff_fill_in_data"), ("rst_row_420", "surg_ff_fill_in_data_rst"),
                      ("prog_deep_sa", "surg_ff_fill_in_data_prog")]:
        data = read(src)
        _, sos0 = segments(data)
        out = bytearray(data)
        stuffed = [i for i in range(sos0, len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0x00]
        for i in reversed(stuffed[:3]):
            out[i + 1:i + 1] = b"\xFF\xFF"
        write(name, bytes(out))

    # Component ids without JFIF / Adobe markers: 1,2,3 means YCbCr, 'R','G','B' means RGB.
    data = read("base_444_100x75")
    segs, sos0 = segments(data)
    body = bytearray(b"".join([data[:2]] + [data[a:b] for m, a, b in segs if m != 0xE0]) + data[sos0:])
    write("surg_nojfif_ids123", bytes(body))
    segs, sos0 = segments(bytes(body))
    sof = next(a for m, a, b in segs if m == 0xC0)
    for i, cid in enumerate(b"RGB"):
        body[sof + 10 + 3 * i] = cid
        body[sos0 + 5 + 2 * i] = cid
    write("surg_nojfif_idsRGB", bytes(body))

    # Adobe transform 1 on a 3-component file without JFIF.
    data = read("rgb_100x75")
    segs, sos0 = segments(data)
    adobe = next(a for m, a, b in segs if m == 0xEE)
    out = bytearray(data)
    out[adobe + 4 + 11] = 1
    write("surg_adobe_t1", bytes(out))

    # Progressions libjpeg only warns about (JWRN_BOGUS_PROGRESSION) and decodes anyway, with its coef_bits
    # bookkeeping: the first DC scan left out (AC scans before any DC, a DC refinement of never-sent bits), and an AC
    # band sent twice (the second overwrites).
    data = read("prog_sa")
    scans = scan_ranges(data)
    write("prog_bogus_no_dc", data[:scans[0][0]] + data[scans[0][1]:])
    a, b = scans[1]
    write("prog_bogus_repeat", data[:b] + data[a:b] + data[b:])

    # Arithmetic coding: refused (no hash).
    cjpeg("arith_420", 32, 24, "-arithmetic", seed=36)
    cjpeg("arith_prog", 32, 24, "-arithmetic", "-progressive", seed=37)

    lines = []
    for f in sorted(os.listdir(OUT)):
        if not f.endswith(".jpg") or f.startswith("arith_") or f.startswith("corrupt_"):
            continue
        dump = os.path.join(TMP, f + ".bin")
        r = subprocess.run([COEFDUMP, os.path.join(OUT, f), dump], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"coefdump failed on {f}: {r.stderr}")
        warn = "warn" if "warning" in r.stderr else "ok"
        with open(dump, "rb") as d:
            lines.append(f"{hashlib.sha256(d.read()).hexdigest()}  {f}  {warn}\n")
    with open(os.path.join(OUT, "coefdump.sha256"), "w") as f:
        f.writelines(lines)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(lines)} fixtures, {total} bytes in {OUT}")


if __name__ == "__main__":
    build()
