#!/usr/bin/python3
"""Fixtures for the JPEG decoder's pixel half (tests/AotVit.Tests/Imaging/Jpeg/JpegPixelTests.cs).

For each generated JPEG: libjpeg's quantized coefficients (tools/jpeg/coefdump.c output, gzipped) and the SHA-256 of
Pillow's Image.open(f).convert("RGB").tobytes(), so CI checks the pixel half against Pillow 9.4 / libjpeg-turbo 2.1.5
without either. Needs Debian's python3-pil + numpy (/usr/bin/python3), libjpeg-turbo-progs (cjpeg) and
libjpeg62-turbo-dev (to build coefdump.c, mkjpeg.c and cmykenc.c).

    /usr/bin/python3 tools/jpeg/make_pixel_fixtures.py [--keep DIR]

writes tests/AotVit.Tests/data/jpeg/pixels/*.coef.gz and manifest.txt ("name width height sha256" per line), and for
the end-to-end test (encoded file → ImageDecoder) e2e/*.jpg (the small generated JPEGs of every kind) and
e2e_manifest.txt ("path width height sha256" per line, path relative to tests/AotVit.Tests/data/jpeg, covering e2e/ and
the entropy half's entropy/*.jpg; sha256 "error" where Pillow refuses the file).
--keep DIR also leaves each JPEG and Pillow's raw RGB there (for debugging a mismatch).
"""
import gzip
import hashlib
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "AotVit.Tests", "data", "jpeg", "pixels")


def build(tmp):
    tools = {}
    for name in ("coefdump", "mkjpeg", "cmykenc"):
        exe = os.path.join(tmp, name)
        subprocess.check_call(["gcc", "-O2", "-o", exe, os.path.join(ROOT, "tools", "jpeg", name + ".c"), "-ljpeg"])
        tools[name] = exe
    return tools


def photo(w, h, seed, channels=3):
    """Smooth gradients, a few hard edges and noise: exercises every frequency and the clamps."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = []
    for c in range(channels):
        fx, fy = rng.uniform(0.02, 0.3, 2)
        p = 128 + 90 * np.sin(x * fx + c) * np.cos(y * fy - c)
        p += np.where((x + 2 * y + 7 * c) % 23 < 9, 60, -40)
        p += rng.normal(0, 18, (h, w))
        planes.append(p)
    return np.clip(np.stack(planes, -1), 0, 255).astype(np.uint8)


def write_pnm(path, arr):
    if arr.ndim == 2 or arr.shape[2] == 1:
        a = arr.reshape(arr.shape[0], arr.shape[1])
        header = b"P5\n%d %d\n255\n" % (a.shape[1], a.shape[0])
    else:
        a = arr
        header = b"P6\n%d %d\n255\n" % (a.shape[1], a.shape[0])
    with open(path, "wb") as f:
        f.write(header + a.tobytes())


def cases(tmp, tools):
    """Yields (name, jpeg path)."""
    n = 0

    def path(name):
        return os.path.join(tmp, name + ".jpg")

    def cjpeg(name, arr, *args):
        src = os.path.join(tmp, name + (".pgm" if arr.ndim == 2 else ".ppm"))
        write_pnm(src, arr)
        subprocess.check_call(["cjpeg", *args, "-outfile", path(name), src])
        return name, path(name)

    sizes = [(1, 1), (2, 2), (3, 5), (7, 9), (9, 7), (17, 33), (33, 17), (16, 16), (40, 23), (64, 48), (101, 77)]
    samplings = ["1x1", "2x1", "2x2", "1x2", "4x1", "4x2", "3x1", "1x4", "2x4", "3x2", "1x1,2x2,2x2", "2x1,1x2,1x2"]
    seed = 0
    for s in samplings:
        for (w, h) in sizes:
            seed += 1
            tag = s.replace(",", "_")
            yield cjpeg(f"ycc_{tag}_{w}x{h}", photo(w, h, seed), "-quality", str(60 + seed % 40), "-sample", s)
    # Pillow's own encoder (4:4:4, 4:2:2, 4:2:0), bigger images.
    for sub in (0, 1, 2):
        for (w, h) in [(200, 150), (131, 97)]:
            seed += 1
            name = f"pil_sub{sub}_{w}x{h}"
            Image.fromarray(photo(w, h, seed)).save(path(name), quality=90, subsampling=sub)
            yield name, path(name)
    for (w, h) in [(1, 1), (7, 9), (33, 17), (64, 48)]:
        seed += 1
        yield cjpeg(f"grey_{w}x{h}", photo(w, h, seed)[:, :, 0], "-quality", "80")
        seed += 1
        yield cjpeg(f"rgb_{w}x{h}", photo(w, h, seed), "-rgb", "-quality", "85")
        yield cjpeg(f"rgb_2x2_{w}x{h}", photo(w, h, seed), "-rgb", "-sample", "2x2", "-quality", "85")
    # Adobe CMYK and YCCK (libjpeg writes them; cjpeg cannot).
    for kind in ("cmyk", "ycck"):
        for samp in ("1x1", "2x2"):
            for (w, h) in [(1, 1), (7, 9), (33, 17), (64, 48)]:
                seed += 1
                name = f"{kind}_{samp}_{w}x{h}"
                with open(path(name), "wb") as out:
                    subprocess.run([tools["cmykenc"], str(w), str(h), "85", kind, f"{samp},1x1,1x1,{samp}"],
                                   input=photo(w, h, seed, 4).tobytes(), stdout=out, check=True)
                yield name, path(name)
    # Progressive: complete (no smoothing) and incomplete scan scripts (block smoothing on).
    scripts = {
        "acpartial": "0,1,2: 0-0, 0, 0;\n0: 1-5, 0, 2;\n1: 1-63, 0, 1;\n2: 1-63, 0, 1;\n",
        "dconlychroma": "0,1,2: 0-0, 0, 0;\n0: 1-63, 0, 0;\n",
        "dcal1": "0,1,2: 0-0, 0, 1;\n0: 1-2, 0, 0;\n1: 1-9, 0, 3;\n",
        "dconly": "0,1,2: 0-0, 0, 0;\n",
        "refined": "0,1,2: 0-0, 0, 1;\n0: 1-5, 0, 2;\n0: 1-5, 2, 1;\n0,1,2: 0-0, 1, 0;\n1: 1-63, 0, 0;\n2: 1-3, 0, 0;\n",
    }
    for sname, text in scripts.items():
        sfile = os.path.join(tmp, sname + ".txt")
        with open(sfile, "w") as f:
            f.write(text)
        for samp in ("1x1", "2x2", "2x1", "1x2"):
            for (w, h) in [(7, 9), (16, 16), (24, 40), (33, 17), (64, 48), (101, 77)]:
                seed += 1
                yield cjpeg(f"prog_{sname}_{samp}_{w}x{h}", photo(w, h, seed), "-quality", "75", "-sample", samp, "-scans", sfile)
    for (w, h) in [(17, 33), (64, 48)]:
        seed += 1
        yield cjpeg(f"prog_full_2x2_{w}x{h}", photo(w, h, seed), "-quality", "90", "-sample", "2x2", "-progressive")
        gfile = os.path.join(tmp, "grey.txt")
        with open(gfile, "w") as f:
            f.write("0: 0-0, 0, 0;\n0: 1-9, 0, 2;\n")
        yield cjpeg(f"prog_grey_partial_{w}x{h}", photo(w, h, seed)[:, :, 1], "-quality", "70", "-scans", gfile)
    # Coefficients no encoder makes (range limit, int32 bound of the SIMD IDCT).
    for i, (w, h, nc, amp) in enumerate([(37, 21, 3, 1023), (16, 16, 1, 1023), (40, 24, 3, 300), (24, 24, 1, 60)]):
        name = f"coef_extreme_{i}_{w}x{h}"
        subprocess.check_call([tools["mkjpeg"], "coef", str(w), str(h), str(nc), str(100 + i), str(amp), path(name)])
        yield name, path(name)


def main():
    keep = None
    if "--keep" in sys.argv:
        keep = sys.argv[sys.argv.index("--keep") + 1]
        os.makedirs(keep, exist_ok=True)
    os.makedirs(OUT, exist_ok=True)
    import shutil
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        tools = build(tmp)
        for name, jpg in cases(tmp, tools):
            try:
                rgb = Image.open(jpg).convert("RGB")
            except Exception as e:  # Pillow refuses it: not a pixel-half fixture
                print(f"skip {name}: {e}")
                continue
            dump = os.path.join(tmp, name + ".bin")
            subprocess.check_call([tools["coefdump"], jpg, dump])
            with open(dump, "rb") as f:
                data = f.read()
            with open(os.path.join(OUT, name + ".coef.gz"), "wb") as f:
                f.write(gzip.compress(data, compresslevel=9, mtime=0))
            raw = rgb.tobytes()
            lines.append(f"{name} {rgb.width} {rgb.height} {hashlib.sha256(raw).hexdigest()}")
            if keep:
                with open(os.path.join(keep, name + ".rgb"), "wb") as f:
                    f.write(raw)
                with open(jpg, "rb") as src, open(os.path.join(keep, name + ".jpg"), "wb") as dst:
                    dst.write(src.read())
            if True:
                kind = name.split("_")[0]
                small = os.path.getsize(jpg) <= 2500 and ("33x17" in name or "7x9" in name or "1x1_" in name[-5:] or kind in ("cmyk", "ycck", "coef"))
                if small:
                    os.makedirs(os.path.join(OUT, "e2e"), exist_ok=True)
                    with open(jpg, "rb") as src, open(os.path.join(OUT, "e2e", name + ".jpg"), "wb") as dst:
                        dst.write(src.read())
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    data = os.path.dirname(OUT)
    e2e = []
    for folder in ("pixels/e2e", "entropy"):
        full = os.path.join(data, folder)
        for fname in sorted(os.listdir(full)) if os.path.isdir(full) else []:
            if not fname.endswith(".jpg"):
                continue
            try:
                im = Image.open(os.path.join(full, fname)).convert("RGB")
                e2e.append(f"{folder}/{fname} {im.width} {im.height} {hashlib.sha256(im.tobytes()).hexdigest()}")
            except Exception:
                e2e.append(f"{folder}/{fname} 0 0 error")
    with open(os.path.join(OUT, "e2e_manifest.txt"), "w") as f:
        f.write("\n".join(e2e) + "\n")
    print(f"{len(lines)} fixtures in {OUT}")


if __name__ == "__main__":
    main()
