#!/usr/bin/python3
"""Golden files for aot-vit's imaging code (src/Runtime/Imaging), written with Pillow + numpy.

What this is: the oracle for the C# decoder, Pillow-compatible BILINEAR / BICUBIC resize and HF-style preprocessing.
It reproduces what Hugging Face's *slow* ViT / MobileViT image processors do (PIL path), step by step
with numpy, without importing transformers. What it is not: a model reference (see tools/reference.py, whose
golden files also hold each model's preprocessing of the sample images, DeiT's BICUBIC one included).

Run with Debian's Python (Pillow 9.4 + numpy):   /usr/bin/python3 tools/pil_goldens.py
Outputs (deterministic; re-running gives identical bytes):
  tests/AotVit.Tests/data/images/{small,grey,grey_alpha,palette,palette_trns,rgba,bilevel}.png   inputs derived from chelsea.png
  tests/AotVit.Tests/data/imaging/resize_cases.bin.gz        seeded random images: PIL BILINEAR outputs
  tests/AotVit.Tests/data/imaging/resize_bicubic_cases.bin.gz    the same kind of cases through PIL BICUBIC
  tests/AotVit.Tests/data/imaging/oriented_bicubic.bin.gz    seeded images in all 8 EXIF orientations (PIL transpose as
                                                             ImageOps.exif_transpose), then PIL BICUBIC to two sizes
  tests/AotVit.Tests/data/imaging/preprocess_<image>.bin.gz  per test image: resized uint8 + float checksums
  tests/AotVit.Tests/data/imaging/convert_<variant>.bin.gz   PIL convert("RGB") of the grey/palette/alpha PNGs
  tests/AotVit.Tests/data/imaging/fuzz/seed*.{png,jpg,gif,bmp,tga}  small seed files for mutation fuzzing
  tests/AotVit.Tests/data/imaging/seed_formats.bin.gz       PIL convert("RGB") of each seed file (GIF: first frame)

Container format ("AVIG", read by tests/AotVit.Tests/Imaging/GoldenFile.cs), gzip-compressed, little-endian:
  magic "AVIG", uint32 count, then per array:
  uint16 name length, UTF-8 name, uint8 dtype (1 = uint8, 2 = float32, 3 = int32), uint8 rank,
  int32 dims[rank], raw element bytes.
  The array "meta" (uint8) holds UTF-8 JSON.

Random test images come from a counter-based generator the C# tests re-implement (SeededBytes):
  mix(z) = splitmix64 finaliser;  byte_i = mix(seed * 0x9e3779b97f4a7c15 + (i + 1) * 0xbf58476d1ce4e5b9) >> 56   (mod 2^64)
"""
import gzip
import hashlib
import io
import json
import os
import struct

import numpy as np
from PIL import Image

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
IMAGES = os.path.join(ROOT, "tests", "AotVit.Tests", "data", "images")
OUT = os.path.join(ROOT, "tests", "AotVit.Tests", "data", "imaging")

M64 = (1 << 64) - 1


# ----------------------------------------------------------------------------------------------------------
# container + helpers

def write_avig(path, arrays):
    body = io.BytesIO()
    body.write(b"AVIG")
    body.write(struct.pack("<I", len(arrays)))
    for name, a in arrays:
        a = np.ascontiguousarray(a)
        code = {np.dtype(np.uint8): 1, np.dtype(np.float32): 2, np.dtype(np.int32): 3}[a.dtype]
        encoded = name.encode("utf-8")
        body.write(struct.pack("<H", len(encoded)))
        body.write(encoded)
        body.write(struct.pack("<BB", code, a.ndim))
        body.write(struct.pack("<%di" % a.ndim, *a.shape))
        body.write(a.astype(a.dtype.newbyteorder("<")).tobytes())
    with open(path, "wb") as f:
        f.write(gzip.compress(body.getvalue(), compresslevel=9, mtime=0))


def meta_array(obj):
    return np.frombuffer(json.dumps(obj, sort_keys=True, indent=1).encode("utf-8"), dtype=np.uint8)


def sha256(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def mix(z):
    # splitmix64 finaliser on a uint64 numpy array (wrapping arithmetic)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def seeded_bytes(seed, count):
    with np.errstate(over="ignore"):
        i = np.arange(1, count + 1, dtype=np.uint64)
        base = np.uint64((seed * 0x9E3779B97F4A7C15) & M64)
        z = mix(base + i * np.uint64(0xBF58476D1CE4E5B9))
    return (z >> np.uint64(56)).astype(np.uint8)


def pil_bilinear(array_u8, out_w, out_h):
    """PIL resize exactly as HF calls it: Image.fromarray(uint8) -> resize(BILINEAR, reducing_gap=None)."""
    return np.array(Image.fromarray(array_u8).resize((out_w, out_h), Image.BILINEAR, reducing_gap=None))


def pil_bicubic(array_u8, out_w, out_h):
    """As pil_bilinear with resample=BICUBIC (3), the filter of HF's DeiT image processor."""
    return np.array(Image.fromarray(array_u8).resize((out_w, out_h), Image.BICUBIC, reducing_gap=None))


# ----------------------------------------------------------------------------------------------------------
# (a) random resize cases

def resize_cases():
    rng = np.random.RandomState(20240601)
    cases = [  # (mode, in_w, in_h, out_w, out_h): hand-picked edge cases first
        ("RGB", 1, 1, 1, 1), ("RGB", 1, 1, 5, 7), ("RGB", 7, 5, 1, 1), ("L", 1, 9, 4, 9),
        ("RGB", 64, 48, 64, 17), ("RGB", 64, 48, 64, 131), ("RGB", 37, 90, 200, 90), ("RGB", 300, 40, 11, 40),
        ("L", 300, 280, 13, 9), ("RGB", 17, 11, 190, 150), ("RGB", 120, 30, 40, 160), ("RGB", 2, 2, 3, 3),
        ("RGB", 224, 224, 224, 224), ("RGB", 257, 129, 128, 64), ("L", 99, 101, 101, 99),
    ]
    while len(cases) < 40:
        mode = "RGB" if rng.rand() < 0.75 else "L"
        in_w, in_h = int(rng.randint(1, 301)), int(rng.randint(1, 301))
        out_w, out_h = int(rng.randint(1, 131)), int(rng.randint(1, 131))
        if rng.rand() < 0.15:
            out_w = in_w
        elif rng.rand() < 0.15:
            out_h = in_h
        cases.append((mode, in_w, in_h, out_w, out_h))
    arrays, meta, total = [], [], 0
    for k, (mode, in_w, in_h, out_w, out_h) in enumerate(cases):
        channels = 3 if mode == "RGB" else 1
        seed = 1000 + k
        data = seeded_bytes(seed, in_w * in_h * channels)
        shape = (in_h, in_w, channels) if channels == 3 else (in_h, in_w)
        out = pil_bilinear(data.reshape(shape), out_w, out_h).reshape(out_h, out_w, channels)
        arrays.append(("case%d.output" % k, out))
        total += out.size
        meta.append({"index": k, "mode": mode, "channels": channels, "seed": seed, "in_w": in_w, "in_h": in_h,
                     "out_w": out_w, "out_h": out_h, "input_sha256": sha256(data)})
    arrays.insert(0, ("meta", meta_array({"cases": meta})))
    write_avig(os.path.join(OUT, "resize_cases.bin.gz"), arrays)
    print("resize cases: %d, %d output bytes" % (len(cases), total))


def bicubic_resize_cases():
    """PIL BICUBIC on seeded random RGB and L images: the edge cases of the bilinear set, sizes where the window is
    clipped at both ends, 1xN and Nx1, extreme ratios both ways, one axis unchanged, identity; then random sizes."""
    rng = np.random.RandomState(20261202)
    cases = [  # (mode, in_w, in_h, out_w, out_h)
        ("RGB", 1, 1, 1, 1), ("RGB", 1, 1, 5, 7), ("RGB", 7, 5, 1, 1), ("L", 1, 9, 4, 9), ("RGB", 2, 2, 3, 3),
        ("RGB", 3, 3, 2, 2), ("RGB", 4, 4, 9, 9), ("RGB", 64, 48, 64, 17), ("RGB", 64, 48, 64, 131),
        ("RGB", 37, 90, 200, 90), ("RGB", 300, 40, 11, 40), ("L", 300, 280, 13, 9), ("RGB", 17, 11, 190, 150),
        ("RGB", 120, 30, 40, 160), ("RGB", 224, 224, 224, 224), ("RGB", 257, 129, 128, 64), ("L", 99, 101, 101, 99),
        ("RGB", 120, 80, 100, 100), ("RGB", 50, 40, 64, 64), ("RGB", 64, 64, 56, 56),
        ("RGB", 1, 300, 1, 7), ("RGB", 300, 1, 64, 1), ("RGB", 1, 200, 5, 301), ("RGB", 250, 1, 3, 400),
        ("RGB", 2000, 2, 3, 2), ("RGB", 3, 2000, 3, 5), ("RGB", 2, 3, 97, 71), ("L", 1500, 7, 2, 3),
        ("RGB", 13, 7, 14, 8), ("RGB", 101, 99, 100, 100), ("RGB", 5, 5, 3, 300),
    ]
    base = len(cases)
    while len(cases) < base + 24:
        mode = "RGB" if rng.rand() < 0.75 else "L"
        in_w, in_h = int(rng.randint(1, 301)), int(rng.randint(1, 301))
        out_w, out_h = int(rng.randint(1, 101)), int(rng.randint(1, 101))
        if rng.rand() < 0.15:
            out_w = in_w
        elif rng.rand() < 0.15:
            out_h = in_h
        cases.append((mode, in_w, in_h, out_w, out_h))
    arrays, meta, total = [], [], 0
    for k, (mode, in_w, in_h, out_w, out_h) in enumerate(cases):
        channels = 3 if mode == "RGB" else 1
        seed = 5000 + k
        data = seeded_bytes(seed, in_w * in_h * channels)
        shape = (in_h, in_w, channels) if channels == 3 else (in_h, in_w)
        out = pil_bicubic(data.reshape(shape), out_w, out_h).reshape(out_h, out_w, channels)
        arrays.append(("case%d.output" % k, out))
        total += out.size
        meta.append({"index": k, "mode": mode, "channels": channels, "seed": seed, "in_w": in_w, "in_h": in_h,
                     "out_w": out_w, "out_h": out_h, "input_sha256": sha256(data), "output_sha256": sha256(out)})
    arrays.insert(0, ("meta", meta_array({"filter": "BICUBIC", "pillow": Image.__version__, "cases": meta})))
    write_avig(os.path.join(OUT, "resize_bicubic_cases.bin.gz"), arrays)
    print("bicubic resize cases: %d, %d output bytes" % (len(cases), total))


# ImageOps.exif_transpose (Pillow 9.4): orientation -> Image.transpose method
EXIF_TRANSPOSE = {2: Image.FLIP_LEFT_RIGHT, 3: Image.ROTATE_180, 4: Image.FLIP_TOP_BOTTOM, 5: Image.TRANSPOSE,
                  6: Image.ROTATE_270, 7: Image.TRANSVERSE, 8: Image.ROTATE_90}


def oriented_bicubic():
    """Stored images in every EXIF orientation: PIL transposes them as exif_transpose does, then resizes with BICUBIC
    to an exact size and to a shortest-edge size. The C# StreamingPreprocessor, fed the stored rows, must produce
    these bytes (plans without rescale/normalise give the bytes as floats; crops give a window of them)."""
    images = [(37, 23, 61, 40, 29, 20), (23, 37, 62, 31, 44, 18), (120, 77, 63, 56, 48, 40), (64, 150, 64, 40, 50, 24),
              (5, 90, 65, 7, 33, 12), (200, 9, 66, 150, 7, 16)]   # (w, h, seed, exact_w, exact_h, shortest_edge)
    arrays, meta = [], []
    for k, (w, h, seed, ew, eh, edge) in enumerate(images):
        data = seeded_bytes(seed, w * h * 3)
        stored = Image.fromarray(data.reshape(h, w, 3))
        entry = {"index": k, "w": w, "h": h, "seed": seed, "input_sha256": sha256(data), "exact_w": ew, "exact_h": eh,
                 "shortest_edge": edge, "orientations": []}
        for orientation in range(1, 9):
            im = stored.transpose(EXIF_TRANSPOSE[orientation]) if orientation > 1 else stored
            ow, oh = im.size
            exact = np.array(im.resize((ew, eh), Image.BICUBIC, reducing_gap=None))
            sh, sw = shortest_edge_size(oh, ow, edge)
            short = np.array(im.resize((sw, sh), Image.BICUBIC, reducing_gap=None)) if (sw, sh) != (ow, oh) else np.array(im)
            arrays.append(("image%d.o%d.exact" % (k, orientation), exact))
            arrays.append(("image%d.o%d.shortest_edge" % (k, orientation), short))
            entry["orientations"].append({"orientation": orientation, "oriented_w": ow, "oriented_h": oh,
                                          "shortest_edge_w": sw, "shortest_edge_h": sh})
        meta.append(entry)
    arrays.insert(0, ("meta", meta_array({"filter": "BICUBIC", "pillow": Image.__version__, "images": meta})))
    write_avig(os.path.join(OUT, "oriented_bicubic.bin.gz"), arrays)
    print("oriented bicubic: %d images x 8 orientations x 2 sizes" % len(images))


# ----------------------------------------------------------------------------------------------------------
# (b) HF preprocessing, emulated exactly (transformers image_transforms + ViT/MobileViT slow processors)

def shortest_edge_size(h, w, size):
    # transformers get_resize_output_image_size(default_to_square=False): int(n * long / short), truncated
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    return (new_long, new_short) if w <= h else (new_short, new_long)


def rescale(u8, factor=1 / 255):
    return (u8.astype(np.float64) * factor).astype(np.float32)


def hf_center_crop(x, ch, cw):
    # no padding case only here (the C# side tests padding on its own; see report)
    h, w = x.shape[:2]
    top, left = (h - ch) // 2, (w - cw) // 2
    assert top >= 0 and left >= 0
    return x[top:top + ch, left:left + cw], top, left


def vit(rgb):
    resized = pil_bilinear(rgb, 224, 224)
    x = rescale(resized)
    mean = np.array([0.5, 0.5, 0.5], dtype=np.float32)
    std = np.array([0.5, 0.5, 0.5], dtype=np.float32)
    x = (x - mean) / std
    assert x.dtype == np.float32
    return resized, np.ascontiguousarray(x.transpose(2, 0, 1)), {}


def mobilevit(rgb):
    h, w = rgb.shape[:2]
    out_h, out_w = shortest_edge_size(h, w, 288)
    resized = pil_bilinear(rgb, out_w, out_h)
    x = rescale(resized)
    x, top, left = hf_center_crop(x, 256, 256)
    x = x[..., ::-1]
    return resized, np.ascontiguousarray(x.transpose(2, 0, 1)), {"top": top, "left": left}


def preprocess_golden(name, rgb, store_decoded, store_mobilevit_resized):
    arrays = []
    meta = {"image": name, "height": int(rgb.shape[0]), "width": int(rgb.shape[1]), "decoded_sha256": sha256(rgb)}
    if store_decoded:
        arrays.append(("decoded", rgb))
    rng = np.random.RandomState(7)
    for plan, fn in (("vit", vit), ("mobilevit", mobilevit)):
        resized, pixel_values, extra = fn(rgb)
        flat = pixel_values.reshape(-1)
        idx = np.sort(rng.choice(flat.size, 64, replace=False)).astype(np.int32)
        arrays += [("%s.sample_index" % plan, idx), ("%s.sample_value" % plan, flat[idx])]
        # Full resized arrays for ViT (224x224) and for the upscaled small image; the larger MobileViT resizes
        # are pinned by their hash and the pixel_values hash only, to keep the data folder small.
        if plan == "vit" or store_mobilevit_resized:
            arrays.append(("%s.resized" % plan, resized))
        meta[plan] = dict(extra, resized_h=int(resized.shape[0]), resized_w=int(resized.shape[1]),
                          shape=list(pixel_values.shape), resized_sha256=sha256(resized), pixel_values_sha256=sha256(pixel_values.astype("<f4")),
                          float64_sum=float(np.sum(pixel_values.astype(np.float64))))
    arrays.insert(0, ("meta", meta_array(meta)))
    stem = os.path.splitext(name)[0]
    write_avig(os.path.join(OUT, "preprocess_%s.bin.gz" % stem), arrays)


# ----------------------------------------------------------------------------------------------------------
# derived input images and PIL conversion goldens

def derived_images():
    chelsea = Image.open(os.path.join(IMAGES, "chelsea.png")).convert("RGB")
    small = chelsea.crop((130, 40, 330, 190))  # 200 wide x 150 high: MobileViT must upscale it (150 -> 288)
    assert small.size == (200, 150)
    small.save(os.path.join(IMAGES, "small.png"), optimize=False)
    tiny = small.resize((64, 48), Image.BILINEAR)
    grey = tiny.convert("L")
    alpha = Image.fromarray(seeded_bytes(5, 64 * 48).reshape(48, 64))
    variants = {
        "grey": grey,
        "grey_alpha": Image.merge("LA", (grey, alpha)),
        "palette": tiny.convert("P", palette=Image.ADAPTIVE, colors=37),
        "rgba": Image.merge("RGBA", tiny.split() + (alpha,)),
        "bilevel": grey.convert("1"),
    }
    trns = tiny.convert("P", palette=Image.ADAPTIVE, colors=16)
    trns.info["transparency"] = 3
    variants["palette_trns"] = trns
    for name, im in variants.items():
        path = os.path.join(IMAGES, name + ".png")
        im.save(path, optimize=False)
        reopened = Image.open(path)
        assert reopened.mode == im.mode, (name, reopened.mode)
        rgb = np.array(reopened.convert("RGB"))
        write_avig(os.path.join(OUT, "convert_%s.bin.gz" % name),
                   [("meta", meta_array({"variant": name, "pil_mode": reopened.mode})), ("rgb", rgb)])
    # fuzz seeds: small files in every format the decoder accepts
    fuzz = os.path.join(OUT, "fuzz")
    os.makedirs(fuzz, exist_ok=True)
    seed_image = small.resize((24, 16), Image.BILINEAR)
    seed_image.save(os.path.join(fuzz, "seed.png"), optimize=False)
    seed_image.save(os.path.join(fuzz, "seed.jpg"), quality=90)
    seed_image.save(os.path.join(fuzz, "seed_progressive.jpg"), quality=90, progressive=True)
    seed_image.convert("P", palette=Image.ADAPTIVE, colors=32).save(os.path.join(fuzz, "seed.gif"))
    seed_image.save(os.path.join(fuzz, "seed.bmp"))
    seed_image.save(os.path.join(fuzz, "seed.tga"))
    seed_image.save(os.path.join(fuzz, "seed_rle.tga"), compression="tga_rle")
    second = seed_image.transpose(Image.FLIP_LEFT_RIGHT)
    first_frame = seed_image.convert("P", palette=Image.ADAPTIVE, colors=64)
    first_frame.save(os.path.join(fuzz, "seed_animated.gif"), save_all=True,
                     append_images=[second.convert("P", palette=Image.ADAPTIVE, colors=64)], duration=100, loop=0)
    # What Pillow decodes from each seed file (first frame for GIF): the lossless ones must match exactly.
    arrays = []
    for name in sorted(os.listdir(fuzz)):
        with Image.open(os.path.join(fuzz, name)) as im:
            arrays.append((name, np.array(im.convert("RGB"))))
    write_avig(os.path.join(OUT, "seed_formats.bin.gz"), [("meta", meta_array({"files": [a[0] for a in arrays]}))] + arrays)
    return ["small.png"]


def main():
    os.makedirs(OUT, exist_ok=True)
    extra = derived_images()
    resize_cases()
    bicubic_resize_cases()
    oriented_bicubic()
    for name in ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg"] + extra:
        with Image.open(os.path.join(IMAGES, name)) as im:
            rgb = np.array(im.convert("RGB"))
        preprocess_golden(name, rgb, store_decoded=name.endswith(".jpg"), store_mobilevit_resized=name in extra)
    total = 0
    for dirpath, _, files in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in files)
    print("total golden bytes: %d" % total)


if __name__ == "__main__":
    main()
