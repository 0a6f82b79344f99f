#!/usr/bin/python3
"""Format and EXIF-orientation goldens for aot-vit's decoders (src/Runtime/Imaging), written with Pillow 9.4 + numpy.

What this is: the oracle for ImageDecoder.Decode as Hugging Face's load_image sees a file:
Image.open(f) -> ImageOps.exif_transpose -> convert("RGB")  ("on"), and Image.open(f) -> convert("RGB") ("off").
Every file here is built byte by byte (PNG chunks, EXIF IFDs) so that each Pillow behaviour is exercised on purpose.

Run with Debian's Python (Pillow 9.4 + numpy):   /usr/bin/python3 tools/pil_formats.py
Outputs (deterministic; re-running gives identical bytes):
  tests/AotVit.Tests/data/imaging/formats/*.{png,jpg,gif,bmp,tga}   the test files (also fuzz seeds)
  tests/AotVit.Tests/data/imaging/formats.bin.gz   per file: meta (ok / error for on and off, Pillow mode, message),
      "<file>.on" / "<file>.off" RGB arrays where Pillow succeeds (for JPEG: Pillow's pixels, compared with a tolerance)
  tests/AotVit.Tests/data/imaging/prefixes.bin.gz  per seed file: uint8 array, 1 where Pillow decodes that prefix
Container: the "AVIG" format of tools/pil_goldens.py.
"""
import io
import os
import struct
import sys
import warnings
import zlib

import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pil_goldens import OUT, meta_array, seeded_bytes, write_avig  # noqa: E402

warnings.simplefilter("ignore")
FORMATS = os.path.join(OUT, "formats")
TRANSPOSE = {2: Image.FLIP_LEFT_RIGHT, 3: Image.ROTATE_180, 4: Image.FLIP_TOP_BOTTOM, 5: Image.TRANSPOSE,
             6: Image.ROTATE_270, 7: Image.TRANSVERSE, 8: Image.ROTATE_90}


def numpy_orient(a, o):
    """The same permutations written with numpy (checked against Pillow below)."""
    return {1: lambda: a, 2: lambda: a[:, ::-1], 3: lambda: a[::-1, ::-1], 4: lambda: a[::-1],
            5: lambda: a.swapaxes(0, 1), 6: lambda: np.rot90(a, -1), 7: lambda: np.rot90(a, -1)[::-1],
            8: lambda: np.rot90(a, 1)}[o]()


# ---------------------------------------------------------------------------------------------------------------
# PNG writer with every filter type

def chunk(t, d, crc=None):
    c = (zlib.crc32(t + d) & 0xFFFFFFFF) if crc is None else crc
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", c)


def filter_rows(raw_rows, bpp, seed):
    """Filters each row with type (row + seed) % 5, as an encoder would, so decoding exercises all five."""
    out, prev = [], bytes(len(raw_rows[0])) if raw_rows else b""
    for i, row in enumerate(raw_rows):
        ft = (i + seed) % 5
        r = np.frombuffer(row, np.uint8).astype(np.int32)
        p = np.frombuffer(prev, np.uint8).astype(np.int32)
        left = np.concatenate([np.zeros(bpp, np.int32), r[:-bpp]]) if len(r) > bpp else np.zeros_like(r)
        upleft = np.concatenate([np.zeros(bpp, np.int32), p[:-bpp]]) if len(p) > bpp else np.zeros_like(p)
        if ft == 0:
            f = r
        elif ft == 1:
            f = r - left
        elif ft == 2:
            f = r - p
        elif ft == 3:
            f = r - (left + p) // 2
        else:
            pa, pb, pc = np.abs(p - upleft), np.abs(left - upleft), np.abs(left + p - 2 * upleft)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, p, upleft))
            f = r - pred
        out.append(bytes([ft]) + (f & 255).astype(np.uint8).tobytes())
        prev = row
    return b"".join(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def pack_rows(samples, depth):
    """samples: [h, w*channels] ints -> packed big-endian rows."""
    rows = []
    for row in samples:
        if depth == 16:
            rows.append(np.asarray(row, ">u2").tobytes())
        elif depth == 8:
            rows.append(np.asarray(row, np.uint8).tobytes())
        else:
            bits = np.unpackbits(np.asarray(row, np.uint8)[:, None], axis=1)[:, 8 - depth:]
            rows.append(np.packbits(bits.reshape(-1)).tobytes())
    return rows


def png_image_data(samples, w, h, channels, depth, interlace, seed):
    bpp = max(1, channels * depth // 8)
    a = np.asarray(samples).reshape(h, w * channels)
    if not interlace:
        return filter_rows(pack_rows(a, depth), bpp, seed)
    a = a.reshape(h, w, channels)
    out = b""
    for x0, y0, dx, dy in ADAM7:
        sub = a[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        out += filter_rows(pack_rows(sub.reshape(sub.shape[0], -1), depth), bpp, seed)
    return out


def png(w, h, ctype, depth, samples, pre=(), post=(), interlace=0, seed=0, idat_split=None, zdata=None, iend=True):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace)
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    if zdata is None:
        zdata = zlib.compress(png_image_data(samples, w, h, channels, depth, interlace, seed), 9)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + b"".join(pre)
    if idat_split:
        for i in range(0, len(zdata), idat_split):
            out += chunk(b"IDAT", zdata[i:i + idat_split])
    else:
        out += chunk(b"IDAT", zdata)
    out += b"".join(post)
    if iend:
        out += chunk(b"IEND", b"")
    return out


def samples_for(w, h, channels, depth, seed):
    n = w * h * channels
    if depth == 16:
        hi, lo = seeded_bytes(seed, n), seeded_bytes(seed + 1, n)
        v = hi.astype(np.int64) * 256 + lo
        v[: n // 4] = v[: n // 4] % 300    # some grey values in 0..299, where mode I's clip shows
        return v
    return seeded_bytes(seed, n).astype(np.int64) % (1 << depth)


def ifd(entries, endian="II", next_=8, extra=b""):
    e = "<" if endian == "II" else ">"
    head = endian.encode() + struct.pack(e + "H", 42) + struct.pack(e + "I", next_)
    body = struct.pack(e + "H", len(entries))
    for tag, typ, count, val in entries:
        body += struct.pack(e + "HHI", tag, typ, count) + val
    return head + body + struct.pack(e + "I", 0) + extra


def short(v, e="<"):
    return struct.pack(e + "H", v) + b"\0\0"


def orientation_ifd(o, endian="II"):
    e = "<" if endian == "II" else ">"
    # a few ordinary tags around it, as cameras write them
    return ifd([(0x010F, 2, 4, b"Cam\0"), (0x0112, 3, 1, short(o, e)), (0x0128, 3, 1, short(2, e))], endian)


# ---------------------------------------------------------------------------------------------------------------
# the cases

def png_cases():
    cases = {}
    w, h = 13, 7
    for ctype, depths in ((0, (1, 2, 4, 8, 16)), (2, (8, 16)), (3, (1, 2, 4, 8)), (4, (8, 16)), (6, (8, 16))):
        channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
        for depth in depths:
            for interlace in (0, 1):
                s = samples_for(w, h, channels, depth, 100 + ctype * 20 + depth + interlace)
                pre = []
                if ctype == 3:
                    entries = min(1 << depth, 200)
                    pre.append(chunk(b"PLTE", seeded_bytes(7 + depth, entries * 3).tobytes()))
                name = "png_c%d_d%d%s.png" % (ctype, depth, "_i" if interlace else "")
                cases[name] = png(w, h, ctype, depth, s, pre=pre, interlace=interlace, seed=depth + ctype)
    s8 = samples_for(w, h, 1, 8, 5)
    plte16 = chunk(b"PLTE", seeded_bytes(9, 16 * 3).tobytes())
    cases["png_p_short_plte.png"] = png(w, h, 3, 8, s8, pre=[plte16])
    cases["png_p_no_plte.png"] = png(w, h, 3, 8, s8)
    cases["png_p_plte_257.png"] = png(w, h, 3, 8, s8, pre=[chunk(b"PLTE", bytes(771))])
    cases["png_p_trns.png"] = png(w, h, 3, 8, s8, pre=[plte16, chunk(b"tRNS", b"\xff\xff\x00")])
    cases["png_p_trns_bytes.png"] = png(w, h, 3, 8, s8, pre=[plte16, chunk(b"tRNS", bytes(range(0, 160, 10)))])
    cases["png_l_trns.png"] = png(w, h, 0, 8, s8, pre=[chunk(b"tRNS", b"\x00\x05")])
    cases["png_l_trns_short.png"] = png(w, h, 0, 8, s8, pre=[chunk(b"tRNS", b"\x05")])
    cases["png_rgb_trns_short.png"] = png(1, 1, 2, 8, [1, 2, 3], pre=[chunk(b"tRNS", b"\0\1\0\2")])
    cases["png_i16_trns.png"] = png(w, h, 0, 16, samples_for(w, h, 1, 16, 6), pre=[chunk(b"tRNS", b"\x01\x00")])
    cases["png_idat_split.png"] = png(w, h, 2, 8, samples_for(w, h, 3, 8, 8), idat_split=7)
    raw = png_image_data(samples_for(w, h, 1, 8, 9), w, h, 1, 8, 0, 0)
    row = w + 1
    full = zlib.compress(raw)
    cases["png_stream_ends_after_3_rows.png"] = png(w, h, 0, 8, None, zdata=zlib.compress(raw[:3 * row]))
    cases["png_stream_ends_mid_row.png"] = png(w, h, 0, 8, None, zdata=zlib.compress(raw[:3 * row + 4]))
    co = zlib.compressobj()
    cut_at_row = co.compress(raw[:3 * row]) + co.flush(zlib.Z_SYNC_FLUSH)
    cases["png_deflate_cut_at_row.png"] = png(w, h, 0, 8, None, zdata=cut_at_row)
    cases["png_deflate_cut.png"] = png(w, h, 0, 8, None, zdata=full[:len(full) // 2])
    cases["png_no_adler.png"] = png(w, h, 0, 8, None, zdata=full[:-4])
    cases["png_bad_adler.png"] = png(w, h, 0, 8, None, zdata=full[:-1] + bytes([full[-1] ^ 1]))
    cases["png_stream_longer.png"] = png(w, h, 0, 8, None, zdata=zlib.compress(raw + bytes(100000)))
    cases["png_trailing_garbage.png"] = png(w, h, 0, 8, None, zdata=full + b"garbage!")
    cases["png_bad_zlib_header.png"] = png(w, h, 0, 8, None, zdata=b"\x78\x9d" + full[2:])
    bad_idat_crc = png(w, h, 0, 8, s8)
    i = bad_idat_crc.index(b"IDAT")
    n = struct.unpack(">I", bad_idat_crc[i - 4:i])[0]
    cases["png_bad_idat_crc.png"] = bad_idat_crc[:i + 4 + n] + b"\0\0\0\0" + bad_idat_crc[i + 8 + n:]
    good = png(w, h, 0, 8, s8)
    cases["png_bad_ihdr_crc.png"] = good[:29] + bytes([good[29] ^ 1]) + good[30:]
    cases["png_bad_text_crc.png"] = png(w, h, 0, 8, s8, pre=[chunk(b"tEXt", b"k\0v", crc=1)])
    cases["png_post_text_bad_crc.png"] = png(w, h, 0, 8, s8, post=[chunk(b"tEXt", b"k\0v", crc=1)])
    cases["png_no_iend.png"] = png(w, h, 0, 8, s8, iend=False)
    cases["png_cut_post_chunk.png"] = png(w, h, 0, 8, s8, post=[chunk(b"tEXt", b"key\0" + b"v" * 40)], iend=False)[:-10]
    cases["png_filter_5.png"] = png(w, h, 0, 8, None, zdata=zlib.compress(b"\x05" + raw[1:]))
    cases["png_filter_method_1.png"] = good.replace(struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0),
                                                    struct.pack(">IIBBBBB", w, h, 8, 0, 0, 1, 0))
    cases["png_bad_chunk_name.png"] = png(w, h, 0, 8, s8, pre=[chunk(b"a b!", b"")])
    cases["png_text_first.png"] = b"\x89PNG\r\n\x1a\n" + chunk(b"tEXt", b"a\0b") + good[8:]
    cases["png_idat_before_ihdr.png"] = b"\x89PNG\r\n\x1a\n" + chunk(b"IDAT", b"junk") + good[8:]
    cases["png_unknown_mode.png"] = good.replace(struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0),
                                                 struct.pack(">IIBBBBB", w, h, 4, 2, 0, 0, 0))
    cases["png_gama_short.png"] = png(w, h, 0, 8, s8, pre=[chunk(b"gAMA", b"\0\0")])
    cases["png_ztxt_method_1.png"] = png(w, h, 0, 8, s8, pre=[chunk(b"zTXt", b"k\0\x01" + zlib.compress(b"v"))])
    cases["png_ztxt_too_large.png"] = png(w, h, 0, 8, s8, pre=[chunk(b"zTXt", b"k\0\0" + zlib.compress(bytes(1100000)))])
    cases["png_ztxt_corrupt.png"] = png(w, h, 0, 8, s8, pre=[chunk(b"zTXt", b"k\0\0garbage")])
    cases["png_interlace_byte_2.png"] = png(w, h, 0, 8, s8, interlace=2)
    return cases


def exif_png(o_ifd, where="eXIf", pre_extra=(), post_extra=()):
    w, h = 5, 3
    s = samples_for(w, h, 3, 8, 42)
    if where == "eXIf":
        return png(w, h, 2, 8, s, pre=[chunk(b"eXIf", o_ifd)] + list(pre_extra), post=list(post_extra))
    if where == "eXIf_post":
        return png(w, h, 2, 8, s, post=[chunk(b"eXIf", o_ifd)] + list(post_extra))
    if where == "tEXt":
        return png(w, h, 2, 8, s, pre=[chunk(b"tEXt", b"exif\0" + o_ifd)])
    if where == "raw_profile":
        hexed = (b"Exif\0\0" + o_ifd).hex()
        lines = "\n".join(hexed[i:i + 72] for i in range(0, len(hexed), 72))
        text = ("\nexif\n%8d\n%s\n" % (len(o_ifd) + 6, lines)).encode()
        return png(w, h, 2, 8, s, pre=[chunk(b"zTXt", b"Raw profile type exif\0\0" + zlib.compress(text))])
    raise ValueError(where)


def xmp_png(text, extra=()):
    w, h = 5, 3
    s = samples_for(w, h, 3, 8, 43)
    return png(w, h, 2, 8, s, pre=[chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + text.encode())] + list(extra))


def exif_cases():
    cases = {}
    for o in range(1, 9):
        cases["exif_png_o%d.png" % o] = exif_png(orientation_ifd(o, "MM" if o % 2 else "II"))
    cases["exif_png_post_idat_o6.png"] = exif_png(orientation_ifd(6), "eXIf_post")
    cases["exif_png_pre_and_post_o3_o6.png"] = exif_png(orientation_ifd(3), post_extra=[chunk(b"eXIf", orientation_ifd(6))])
    cases["exif_png_text_o8.png"] = exif_png(orientation_ifd(8), "tEXt")
    cases["exif_png_raw_profile_o5.png"] = exif_png(orientation_ifd(5), "raw_profile")
    cases["exif_png_xmp_attr_o7.png"] = xmp_png('<x:xmpmeta><rdf:Description tiff:Orientation="7"/></x:xmpmeta>')
    cases["exif_png_xmp_elem_o6.png"] = xmp_png("<tiff:Orientation>6</tiff:Orientation>")
    cases["exif_png_xmp_9.png"] = xmp_png('tiff:Orientation="9"')
    cases["exif_png_xmp_with_exif_o1.png"] = xmp_png('tiff:Orientation="6"', extra=[chunk(b"eXIf", orientation_ifd(1))])
    cases["exif_png_xmp_with_exif_no_tag.png"] = xmp_png('tiff:Orientation="6"', extra=[chunk(b"eXIf", ifd([(0x0128, 3, 1, short(2))]))])

    L = "<"
    def ool(typ, data, count=1):   # value stored after the IFD (offset 8 + 2 + 12 + 4 = 26)
        return ifd([(0x0112, typ, count, struct.pack(L + "I", 26))], extra=data)
    hostile = {
        "short_6": ifd([(0x0112, 3, 1, short(6))]),
        "long_6": ifd([(0x0112, 4, 1, struct.pack("<I", 6))]),
        "sbyte_6": ifd([(0x0112, 6, 1, b"\x06\0\0\0")]),
        "sshort_8": ifd([(0x0112, 8, 1, short(8))]),
        "slong_minus6": ifd([(0x0112, 9, 1, struct.pack("<i", -6))]),
        "byte_6": ifd([(0x0112, 1, 1, b"\x06\0\0\0")]),
        "ascii_6": ifd([(0x0112, 2, 2, b"6\0\0\0")]),
        "undefined_6": ifd([(0x0112, 7, 1, b"\x06\0\0\0")]),
        "float_6": ifd([(0x0112, 11, 1, struct.pack("<f", 6.0))]),
        "float_6_5": ifd([(0x0112, 11, 1, struct.pack("<f", 6.5))]),
        "double_3": ool(12, struct.pack("<d", 3.0)),
        "rational_12_2": ool(5, struct.pack("<II", 12, 2)),
        "rational_13_2": ool(5, struct.pack("<II", 13, 2)),
        "rational_6_0": ool(5, struct.pack("<II", 6, 0)),
        "srational_m12_m2": ool(10, struct.pack("<ii", -12, -2)),
        "long8_6": ool(16, struct.pack("<Q", 6)),
        "ifd_type_6": ifd([(0x0112, 13, 1, struct.pack("<I", 6))]),
        "short_count2_6_3": ifd([(0x0112, 3, 2, struct.pack("<HH", 6, 3))]),
        "short_count3_ool": ool(3, struct.pack("<HHH", 8, 1, 1), count=3),
        "count_0": ifd([(0x0112, 3, 0, short(6))]),
        "duplicate_6_then_3": ifd([(0x0112, 3, 1, short(6)), (0x0112, 3, 1, short(3))]),
        "duplicate_6_then_count0": ifd([(0x0112, 3, 1, short(6)), (0x0112, 3, 0, short(3))]),
        "duplicate_6_then_badtype": ifd([(0x0112, 3, 1, short(6)), (0x0112, 99, 1, short(3))]),
        "value_0": ifd([(0x0112, 3, 1, short(0))]),
        "value_9": ifd([(0x0112, 3, 1, short(9))]),
        "value_65535": ifd([(0x0112, 3, 1, short(65535))]),
        "unknown_type": ifd([(0x0112, 14, 1, short(6))]),
        "huge_count_before": ifd([(0x0100, 4, 0x40000000, struct.pack("<I", 8)), (0x0112, 3, 1, short(6))]),
        "offset_past_end_before": ifd([(0x0100, 3, 100, struct.pack("<I", 1000)), (0x0112, 3, 1, short(6))]),
        "offset_past_end_after": ifd([(0x0112, 3, 1, short(6)), (0x0100, 3, 100, struct.pack("<I", 1000))]),
        "entry_count_huge": ifd([(0x0112, 3, 1, short(6))])[:8] + struct.pack("<H", 65535) + ifd([(0x0112, 3, 1, short(6))])[10:],
        "truncated_entry": ifd([(0x0112, 3, 1, short(6))])[:-10],
        "ifd_offset_past_end": b"II*\0" + struct.pack("<I", 5000) + ifd([(0x0112, 3, 1, short(6))])[8:],
        "ifd_offset_in_header": b"II*\0" + struct.pack("<I", 2) + b"\0\0",
        "ifd_loop_next": ifd([(0x0112, 3, 1, short(6))], next_=8),
        "exif_subifd_orientation_only": ifd([(0x8769, 4, 1, struct.pack("<I", 26))],
                                            extra=struct.pack("<H", 1) + struct.pack("<HHI", 0x0112, 3, 1) + short(6) + b"\0\0\0\0"),
        "big_endian_6": ifd([(0x0112, 3, 1, short(6, ">"))], "MM"),
        "mm_swapped_magic": b"MM*\0" + ifd([(0x0112, 3, 1, short(6, ">"))], "MM")[4:],
        "not_tiff": b"XX*\0\x08\0\0\0",
        "short_header_4": b"II*\0",
        "short_header_6": b"II*\0\x08\0",
        "bigtiff": b"II+\0\x08\0\0\0\0\0\0\0",
        "empty": b"",
        "two_bytes": b"II",
    }
    for name, blob in hostile.items():
        cases["exif_hostile_%s.png" % name] = exif_png(blob)
    return cases


def jpeg_cases():
    cases = {}
    base = Image.fromarray(samples_for(24, 16, 3, 8, 77).astype(np.uint8).reshape(16, 24, 3))
    for o in range(1, 9):
        f = io.BytesIO()
        base.save(f, "JPEG", quality=92, exif=b"Exif\0\0" + orientation_ifd(o, "MM" if o % 2 else "II"))
        cases["exif_jpeg_o%d.jpg" % o] = f.getvalue()
    f = io.BytesIO()
    base.save(f, "JPEG", quality=92)
    plain = f.getvalue()

    def with_app(segments, data=plain):
        # insert segments right after SOI (and after Pillow's JFIF APP0 when asked)
        return data[:2] + b"".join(segments) + data[2:]

    def app(marker, payload):
        return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload

    jfif_dpi = app(0xE0, b"JFIF\0\x01\x01\x01\0\x48\0\x48\0\0")
    ex6 = b"Exif\0\0" + orientation_ifd(6)
    cases["exif_jpeg_two_app1_first_wins.jpg"] = with_app([app(0xE1, b"Exif\0\0" + orientation_ifd(3)), app(0xE1, ex6)])
    cases["exif_jpeg_xmp_app1_then_exif.jpg"] = with_app([app(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x/>"), app(0xE1, ex6)])
    cases["exif_jpeg_exif_x_suffix.jpg"] = with_app([app(0xE1, b"Exif\0X" + orientation_ifd(6))])
    cases["exif_jpeg_not_tiff.jpg"] = with_app([app(0xE1, b"Exif\0\0XX*\0\x08\0\0\0")])
    cases["exif_jpeg_not_tiff_after_jfif_dpi.jpg"] = with_app([jfif_dpi, app(0xE1, b"Exif\0\0XX*\0\x08\0\0\0")])
    cases["exif_jpeg_short_header.jpg"] = with_app([app(0xE1, b"Exif\0\0II*\0\x08")])
    cases["exif_jpeg_short_header_after_jfif_dpi.jpg"] = with_app([jfif_dpi, app(0xE1, b"Exif\0\0II*\0\x08")])
    cases["exif_jpeg_o6_after_jfif_dpi.jpg"] = with_app([jfif_dpi, app(0xE1, ex6)])
    cases["exif_jpeg_fill_bytes_o8.jpg"] = with_app([b"\xff\xff\xff", app(0xE1, b"Exif\0\0" + orientation_ifd(8))])
    cases["exif_jpeg_hostile_huge_count.jpg"] = with_app([app(0xE1, b"Exif\0\0" + ifd([(0x0100, 4, 0xFFFFFFFF, b"\0\0\0\0"), (0x0112, 3, 1, short(6))]))])
    return cases


def other_cases():
    cases = {}
    rgb = samples_for(11, 9, 3, 8, 55).astype(np.uint8).reshape(9, 11, 3)
    im = Image.fromarray(rgb)
    for name, kw in (("tga_rgb.tga", {}), ("tga_rle.tga", {"compression": "tga_rle"})):
        f = io.BytesIO()
        im.save(f, "TGA", **kw)
        cases[name] = f.getvalue()
    for mode in ("L", "P"):
        f = io.BytesIO()
        (im.convert("L") if mode == "L" else im.convert("P", palette=Image.ADAPTIVE, colors=20)).save(f, "TGA", compression="tga_rle")
        cases["tga_rle_%s.tga" % mode] = f.getvalue()
    # A 34-byte RLE TGA declaring 9000x9000 (the decompression bomb)
    cases["tga_rle_bomb.tga"] = struct.pack("<BBBHHBHHHHBB", 0, 0, 10, 0, 0, 0, 0, 0, 9000, 9000, 24, 0) + b"\xff\x01\x02\x03" * 4
    # GIF: transparent index, interlace, local colour table, frame smaller than the screen
    p = im.convert("P", palette=Image.ADAPTIVE, colors=16)
    for name, kw in (("gif_transparent.gif", {"transparency": 3}), ("gif_interlaced.gif", {"interlace": True}),
                     ("gif_plain.gif", {"interlace": False})):
        f = io.BytesIO()
        p.save(f, "GIF", **kw)
        cases[name] = f.getvalue()
    for name, kw in (("bmp_rgb.bmp", {}),):
        f = io.BytesIO()
        im.save(f, "BMP", **kw)
        cases[name] = f.getvalue()
    for mode in ("1", "L", "P"):
        f = io.BytesIO()
        (im.convert(mode) if mode != "P" else p).save(f, "BMP")
        cases["bmp_%s.bmp" % mode] = f.getvalue()
    return cases


def pil_outcome(data):
    try:
        with Image.open(io.BytesIO(data)) as im:
            mode = im.mode
            on = np.array(ImageOps.exif_transpose(im).convert("RGB"))
    except Exception as e:  # noqa: BLE001 - any failure is "Pillow fails"
        on, mode, on_err = None, None, "%s: %s" % (type(e).__name__, e)
    else:
        on_err = None
    try:
        with Image.open(io.BytesIO(data)) as im:
            mode = im.mode
            off = np.array(im.convert("RGB"))
        off_err = None
    except Exception as e:  # noqa: BLE001
        off, off_err = None, "%s: %s" % (type(e).__name__, e)
    return mode, on, on_err, off, off_err


def check_transposes():
    a = seeded_bytes(3, 5 * 3 * 3).reshape(3, 5, 3)
    for o, method in TRANSPOSE.items():
        assert np.array_equal(np.array(Image.fromarray(a).transpose(method)), numpy_orient(a, o)), o


def main():
    check_transposes()
    os.makedirs(FORMATS, exist_ok=True)
    for f in os.listdir(FORMATS):
        os.remove(os.path.join(FORMATS, f))
    cases = {}
    for group in (png_cases(), exif_cases(), jpeg_cases(), other_cases()):
        cases.update(group)
    arrays, files = [], []
    for name in sorted(cases):
        data = cases[name]
        with open(os.path.join(FORMATS, name), "wb") as f:
            f.write(data)
        mode, on, on_err, off, off_err = pil_outcome(data)
        entry = {"file": name, "mode": mode, "on": on is not None, "off": off is not None,
                 "on_error": on_err, "off_error": off_err}
        if on is not None and off is not None and name.endswith(".jpg"):
            # geometry of exif_transpose, checked here so that the C# test can rely on it
            o = next((k for k in range(2, 9) if on.shape == numpy_orient(off, k).shape
                      and np.array_equal(on, numpy_orient(off, k))), 1)
            assert o != 1 or np.array_equal(on, off), name
            entry["orientation"] = o
        if on is not None:
            arrays.append((name + ".on", on))
        if off is not None and (on is None or not np.array_equal(on, off)):
            arrays.append((name + ".off", off))
        files.append(entry)
    write_avig(os.path.join(OUT, "formats.bin.gz"), [("meta", meta_array({"files": files}))] + arrays)

    # Which prefixes of the small seed files Pillow decodes (applies to exif_transpose + convert).
    prefixes = []
    seeds = sorted(f for f in os.listdir(os.path.join(OUT, "fuzz")) if not f.endswith(".jpg"))
    seeds += ["png_c0_d8_i.png", "png_c3_d4.png", "png_idat_split.png", "exif_png_o6.png", "gif_transparent.gif", "tga_rle_P.tga"]
    for name in seeds:
        path = os.path.join(OUT, "fuzz", name)
        data = open(path if os.path.exists(path) else os.path.join(FORMATS, name), "rb").read()
        ok = np.array([pil_outcome(data[:n])[1] is not None for n in range(len(data) + 1)], np.uint8)
        prefixes.append((name, ok))
    write_avig(os.path.join(OUT, "prefixes.bin.gz"), [("meta", meta_array({"files": [p[0] for p in prefixes]}))] + prefixes)
    print("%d format cases, %d prefix sets" % (len(files), len(prefixes)))
    for e in files:
        print("%-48s %-5s on=%-5s off=%-5s %s" % (e["file"], e["mode"], e["on"], e["off"], e["on_error"] or ""))


if __name__ == "__main__":
    main()
