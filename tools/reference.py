#!/usr/bin/python3
"""PyTorch reference for aot-vit: synthetic checkpoints, BN calibration, golden test vectors.

Run with Debian's interpreter (torch 1.13, numpy 1.24, Pillow 9.4):

    /usr/bin/python3 tools/reference.py                 # = --print-weights --calibrate --goldens
    /usr/bin/python3 tools/reference.py --print-weights # PRNG cross-check values + fingerprints
    /usr/bin/python3 tools/reference.py --calibrate     # writes src/Graphs/mobilevit-small/synthetic-bn-calibration.safetensors
    /usr/bin/python3 tools/reference.py --goldens       # writes tests/AotVit.Tests/data/golden/*.safetensors
    /usr/bin/python3 tools/reference.py --selfcheck     # float64 vs float32, output magnitudes, determinism
    /usr/bin/python3 tools/reference.py --write-checkpoint DIR   # DIR/<model>/model.safetensors (not committed)
    /usr/bin/python3 tools/reference.py --write-checkpoint DIR --torch-bin  # + DIR/<model>/pytorch_model.bin (torch.save)
    /usr/bin/python3 tools/reference.py --export-onnx DIR        # DIR/<model>.onnx (gitignored)
    /usr/bin/python3 tools/reference.py --bench-torch [--bench-runs N] [--json OUT]

Everything is written from docs/ARCHITECTURE.md ("Synthetic checkpoints", "Golden files") and the
model spec (HF transformers ViTModel / MobileViTForImageClassification and their slow PIL image
processors). No transformers import: the models are re-implemented here with the real state-dict names.
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = os.path.join(REPO, "tests", "AotVit.Tests", "data", "images")
GOLDEN = os.path.join(REPO, "tests", "AotVit.Tests", "data", "golden")
CALIBRATION = os.path.join(REPO, "src", "Graphs", "mobilevit-small", "synthetic-bn-calibration.safetensors")
VIT = "vit-base-patch32-224-in21k"
MOBILEVIT = "mobilevit-small"

# --------------------------------------------------------------------------------------------------
# Synthetic weights (docs/ARCHITECTURE.md "Synthetic checkpoints")
# --------------------------------------------------------------------------------------------------
MASK64 = (1 << 64) - 1
U64 = np.uint64


def fnv1a64(name):
    h = 0xCBF29CE484222325
    for b in name.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & MASK64
    return h


def mix_int(z):
    z &= MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def mix_array(z):
    """Same as mix_int on a uint64 array (numpy uint64 multiplication wraps mod 2^64)."""
    z = z ^ (z >> U64(30))
    z = z * U64(0xBF58476D1CE4E5B9)
    z = z ^ (z >> U64(27))
    z = z * U64(0x94D049BB133111EB)
    return z ^ (z >> U64(31))


def init_rule(name, shape):
    """(offset, scale) by the first matching rule; None for num_batches_tracked (I64 zeros)."""
    if name.endswith("num_batches_tracked"):
        return None
    if name.endswith(".running_var"):
        return 1.0, 0.25
    if name.endswith(".running_mean"):
        return 0.0, 0.1
    if name.endswith("normalization.weight"):
        return 1.0, 0.2
    if name.endswith("normalization.bias"):
        return 0.0, 0.1
    if "layernorm" in name and name.endswith(".weight"):
        return 1.0, 0.1
    if "layernorm" in name and name.endswith(".bias"):
        return 0.0, 0.05
    if name.endswith("cls_token") or name.endswith("position_embeddings"):
        return 0.0, 0.5
    if name.endswith(".weight") and len(shape) >= 2:
        fan_in = int(np.prod(shape[1:]))
        return 0.0, 1.0 / math.sqrt(fan_in)
    return 0.0, 0.05


def synthetic_tensor(name, shape, seed):
    rule = init_rule(name, shape)
    if rule is None:
        return np.zeros(shape, dtype=np.int64)
    offset, scale = rule
    n = int(np.prod(shape)) if len(shape) else 1
    stream = mix_int((seed & MASK64) ^ fnv1a64(name))
    with np.errstate(over="ignore"):
        i = np.arange(1, n + 1, dtype=U64)
        u = mix_array(U64(stream) + i * U64(0x9E3779B97F4A7C15))
    x = (u >> U64(40)).astype(np.float64) / float(1 << 24)
    v = offset + scale * (2.0 * x - 1.0)
    return v.astype(np.float32).reshape(shape)


def synthetic_state(spec, seed):
    """spec: list of (name, shape). Returns dict name -> numpy array (float32 or int64)."""
    return {name: synthetic_tensor(name, tuple(shape), seed) for name, shape in spec}


def weights_fingerprint(state):
    """float64 sum over all tensors in sorted (ordinal) name order of value*(1+(i mod 7)),
    i = element index within the tensor; accumulated sequentially (np.cumsum is sequential)."""
    acc = 0.0
    for name in sorted(state):
        a = np.asarray(state[name]).reshape(-1).astype(np.float64)
        if a.size == 0:
            continue
        w = 1.0 + (np.arange(a.size) % 7).astype(np.float64)
        acc = float(np.cumsum(np.concatenate([[acc], a * w]))[-1])
    return acc


# --------------------------------------------------------------------------------------------------
# safetensors (plain Python)
# --------------------------------------------------------------------------------------------------
_NP2ST = {np.dtype("float64"): "F64", np.dtype("float32"): "F32", np.dtype("float16"): "F16",
          np.dtype("int64"): "I64", np.dtype("int32"): "I32", np.dtype("int16"): "I16",
          np.dtype("int8"): "I8", np.dtype("uint8"): "U8", np.dtype("bool"): "BOOL"}
_ST2NP = {v: k for k, v in _NP2ST.items()}


def st_serialize(tensors, metadata=None):
    """tensors: list of (name, numpy array) in file order. Returns bytes."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs, off = [], 0
    for name, arr in tensors:
        arr = np.ascontiguousarray(arr).reshape(np.shape(arr))   # ascontiguousarray makes a 0-d array 1-d
        b = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _NP2ST[arr.dtype], "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    h += b" " * ((-len(h)) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def st_write(path, tensors, metadata=None):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    data = st_serialize(tensors, metadata)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return len(data)


def st_read(path):
    """Returns (dict name -> numpy array in file order, metadata dict)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        dt = _ST2NP[info["dtype"]].newbyteorder("<")
        out[name] = np.frombuffer(data[base + b:base + e], dtype=dt).reshape(info["shape"]).copy()
    return out, meta


# --------------------------------------------------------------------------------------------------
# ViTModel (with pooler), HF names without prefix
# --------------------------------------------------------------------------------------------------
class ViTSelfAttentionRef(nn.Module):
    def __init__(self, d, heads, qkv_bias=True, scale_by_division=False):
        super().__init__()
        self.heads, self.head_dim = heads, d // heads
        self.query = nn.Linear(d, d, bias=qkv_bias)
        self.key = nn.Linear(d, d, bias=qkv_bias)
        self.value = nn.Linear(d, d, bias=qkv_bias)
        self.scale_by_division = scale_by_division

    def _split(self, x):  # [B, T, D] -> [B, H, T, d]
        return x.reshape(x.shape[0], x.shape[1], self.heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x):
        q, k, v = self._split(self.query(x)), self._split(self.key(x)), self._split(self.value(x))
        s = torch.matmul(q, k.transpose(-1, -2))
        if self.scale_by_division:          # MobileViT: scores / sqrt(head_dim)
            s = s / math.sqrt(self.head_dim)
        else:                               # ViT (current HF): scores * head_dim**-0.5 (0.125, exact)
            s = s * (self.head_dim ** -0.5)
        p = F.softmax(s, dim=-1)
        ctx = torch.matmul(p, v).permute(0, 2, 1, 3).contiguous()
        return ctx.reshape(ctx.shape[0], ctx.shape[1], self.heads * self.head_dim)


class Dense(nn.Module):
    def __init__(self, din, dout):
        super().__init__()
        self.dense = nn.Linear(din, dout)

    def forward(self, x):
        return self.dense(x)


class AttentionBlock(nn.Module):
    def __init__(self, d, heads, scale_by_division):
        super().__init__()
        self.attention = ViTSelfAttentionRef(d, heads, True, scale_by_division)
        self.output = Dense(d, d)

    def forward(self, x):
        return self.output(self.attention(x))


class TransformerLayer(nn.Module):
    """Pre-norm layer shared by ViT (GELU erf, eps 1e-12) and MobileViT (SiLU, eps 1e-5)."""

    def __init__(self, d, heads, ffn, eps, act, scale_by_division):
        super().__init__()
        self.attention = AttentionBlock(d, heads, scale_by_division)
        self.intermediate = Dense(d, ffn)
        self.output = Dense(ffn, d)
        self.layernorm_before = nn.LayerNorm(d, eps=eps)
        self.layernorm_after = nn.LayerNorm(d, eps=eps)
        self.act = act

    def forward(self, h):
        h = self.attention(self.layernorm_before(h)) + h
        y = self.act(self.intermediate(self.layernorm_after(h)))
        return self.output(y) + h


class Layers(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layer = nn.ModuleList(layers)

    def forward(self, x):
        for m in self.layer:
            x = m(x)
        return x


class PatchEmbeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.projection = nn.Conv2d(3, 768, kernel_size=32, stride=32)

    def forward(self, x):
        return self.projection(x).flatten(2).transpose(1, 2)   # [B, 49, 768], token = row*7 + col


class ViTEmbeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 768))
        self.position_embeddings = nn.Parameter(torch.zeros(1, 50, 768))
        self.patch_embeddings = PatchEmbeddings()

    def forward(self, x):
        p = self.patch_embeddings(x)
        cls = self.cls_token.expand(p.shape[0], -1, -1)
        return torch.cat((cls, p), dim=1) + self.position_embeddings


class ViTModelRef(nn.Module):
    def __init__(self):
        super().__init__()
        self.embeddings = ViTEmbeddings()
        self.encoder = Layers([TransformerLayer(768, 12, 3072, 1e-12, F.gelu, False) for _ in range(12)])
        self.layernorm = nn.LayerNorm(768, eps=1e-12)
        self.pooler = Dense(768, 768)

    def forward(self, pixel_values):
        h = self.layernorm(self.encoder(self.embeddings(pixel_values)))
        return h, torch.tanh(self.pooler(h[:, 0]))


# --------------------------------------------------------------------------------------------------
# MobileViTForImageClassification, HF names (mobilevit.*, classifier.*)
# --------------------------------------------------------------------------------------------------
class ConvLayer(nn.Module):
    def __init__(self, cin, cout, k, stride=1, groups=1, bn=True, act=True):
        super().__init__()
        self.convolution = nn.Conv2d(cin, cout, k, stride=stride, padding=(k - 1) // 2, groups=groups, bias=False)
        self.normalization = nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1) if bn else None
        self.act = act

    def forward(self, x):
        x = self.convolution(x)
        if self.normalization is not None:
            x = self.normalization(x)
        return F.silu(x) if self.act else x


def make_divisible(v, divisor=8):
    nv = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if nv < 0.9 * v:
        nv += divisor
    return int(nv)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand_ratio=4.0):
        super().__init__()
        e = make_divisible(int(round(cin * expand_ratio)), 8)
        self.use_residual = stride == 1 and cin == cout
        self.expand_1x1 = ConvLayer(cin, e, 1)
        self.conv_3x3 = ConvLayer(e, e, 3, stride=stride, groups=e)
        self.reduce_1x1 = ConvLayer(e, cout, 1, act=False)

    def forward(self, x):
        y = self.reduce_1x1(self.conv_3x3(self.expand_1x1(x)))
        return x + y if self.use_residual else y


class MobileViTBlock(nn.Module):
    def __init__(self, cin, c, d, depth, heads=4, mlp_ratio=2.0, patch=2):
        super().__init__()
        self.ph = self.pw = patch
        self.downsampling_layer = InvertedResidual(cin, c, 2)
        self.conv_kxk = ConvLayer(c, c, 3)
        self.conv_1x1 = ConvLayer(c, d, 1, bn=False, act=False)
        self.transformer = Layers([TransformerLayer(d, heads, int(d * mlp_ratio), 1e-5, F.silu, True)
                                   for _ in range(depth)])
        self.layernorm = nn.LayerNorm(d, eps=1e-5)
        self.conv_projection = ConvLayer(d, c, 1)
        self.fusion = ConvLayer(2 * c, c, 3)

    def unfold(self, x):
        # Same data movement as HF MobileViTLayer.unfolding (batch dims written as -1 so the ONNX
        # export keeps a dynamic batch): tokens[b*4 + ph*2 + pw, ih*nw + iw, c] = x[b, c, 2ih+ph, 2iw+pw]
        _, c, h, w = x.shape
        ph, pw = self.ph, self.pw
        nh, nw = h // ph, w // pw
        if nh * ph != h or nw * pw != w:
            raise ValueError("odd feature map; HF would interpolate (never happens for 256x256 input)")
        t = x.reshape(-1, ph, nw, pw).transpose(1, 2)          # [B*C*nh, nw, ph, pw]
        t = t.reshape(-1, c, nh * nw, ph * pw).transpose(1, 3)  # [B, 4, N, C]
        return t.reshape(-1, nh * nw, c), (c, h, w)

    def fold(self, t, info):
        c, h, w = info
        ph, pw = self.ph, self.pw
        nh, nw = h // ph, w // pw
        x = t.contiguous().view(-1, ph * pw, nh * nw, c).transpose(1, 3)   # [B, C, N, 4]
        x = x.reshape(-1, nw, ph, pw).transpose(1, 2)                      # [B*C*nh, ph, nw, pw]
        return x.reshape(-1, c, nh * ph, nw * pw)

    def forward(self, x):
        x = self.downsampling_layer(x)
        res = x
        y = self.conv_1x1(self.conv_kxk(x))
        t, info = self.unfold(y)
        t = self.layernorm(self.transformer(t))
        y = self.conv_projection(self.fold(t, info))
        return self.fusion(torch.cat((res, y), dim=1))


class MobileViTEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.ModuleList([
            Layers([InvertedResidual(16, 32, 1)]),
            Layers([InvertedResidual(32, 64, 2), InvertedResidual(64, 64, 1), InvertedResidual(64, 64, 1)]),
            MobileViTBlock(64, 96, 144, 2),
            MobileViTBlock(96, 128, 192, 4),
            MobileViTBlock(128, 160, 240, 3),
        ])

    def forward(self, x):
        for m in self.layer:
            x = m(x)
        return x


class MobileViTBackbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_stem = ConvLayer(3, 16, 3, stride=2)
        self.encoder = MobileViTEncoder()
        self.conv_1x1_exp = ConvLayer(160, 640, 1)

    def forward(self, x):
        return torch.mean(self.conv_1x1_exp(self.encoder(self.conv_stem(x))), dim=[-2, -1])


class MobileViTForImageClassificationRef(nn.Module):
    def __init__(self):
        super().__init__()
        self.mobilevit = MobileViTBackbone()
        self.classifier = nn.Linear(640, 1000)

    def forward(self, pixel_values):
        return self.classifier(self.mobilevit(pixel_values))   # dropout: no-op in eval


# --------------------------------------------------------------------------------------------------
# Model construction / loading
# --------------------------------------------------------------------------------------------------
MODEL_CLASSES = {VIT: ViTModelRef, MOBILEVIT: MobileViTForImageClassificationRef}


def model_spec(model):
    """[(name, shape)] in state_dict order, from the module itself."""
    return [(k, tuple(v.shape)) for k, v in MODEL_CLASSES[model]().state_dict().items()]


def check_spec_tsv(model, spec_dir):
    fn = {VIT: "tensors_vit.tsv", MOBILEVIT: "tensors_mobilevit.tsv"}[model]
    path = os.path.join(spec_dir, fn)
    if not os.path.exists(path):
        return None
    want = {}
    for line in open(path):
        if line.strip():
            name, shape, dtype = line.rstrip("\n").split("\t")
            want[name] = (tuple(json.loads(shape)), dtype)
    sd = MODEL_CLASSES[model]().state_dict()
    have = {k: (tuple(v.shape), "I64" if v.dtype == torch.int64 else "F32") for k, v in sd.items()}
    if have != want:
        missing = sorted(set(want) - set(have))
        extra = sorted(set(have) - set(want))
        bad = sorted(k for k in set(want) & set(have) if want[k] != have[k])
        raise SystemExit(f"{model}: spec mismatch missing={missing[:5]} extra={extra[:5]} shape={bad[:5]}")
    return len(want)


def build_model(model, state, dtype=torch.float32):
    m = MODEL_CLASSES[model]()
    sd = {k: torch.from_numpy(np.array(v)) for k, v in state.items()}
    m.load_state_dict(sd, strict=True)
    m.eval()
    if dtype == torch.float64:
        m.double()
    return m


def vit_state(seed):
    return synthetic_state(model_spec(VIT), seed)


def mobilevit_state(seed, calibrated=True):
    st = synthetic_state(model_spec(MOBILEVIT), seed)
    if calibrated:
        if not os.path.exists(CALIBRATION):
            raise SystemExit(f"missing {CALIBRATION}; run --calibrate first")
        cal, meta = st_read(CALIBRATION)
        if meta.get("seed") != str(seed):
            raise SystemExit(f"calibration file is for seed {meta.get('seed')}, not {seed}; run --calibrate --seed {seed}")
        for k, v in cal.items():
            assert k in st and st[k].shape == v.shape and v.dtype == np.float32, k
            st[k] = v
    return st


# --------------------------------------------------------------------------------------------------
# Preprocessing (HF slow image processors, PIL path)
# --------------------------------------------------------------------------------------------------
def decode(path):
    img = Image.open(path)
    img.load()
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.array(img, dtype=np.uint8)


def load_image(path):
    """transformers' image_utils.load_image for a path: Image.open, ImageOps.exif_transpose, convert("RGB")."""
    from PIL import ImageOps
    img = ImageOps.exif_transpose(Image.open(path))
    return np.array(img.convert("RGB"), dtype=np.uint8)


def pil_resize(rgb, height, width):
    if rgb.shape[0] == height and rgb.shape[1] == width:
        return rgb.copy()
    return np.array(Image.fromarray(rgb).resize((width, height), resample=Image.BILINEAR), dtype=np.uint8)


def rescale(u8):
    return (u8.astype(np.float64) * (1 / 255)).astype(np.float32)


def vit_preprocess(rgb):
    resized = pil_resize(rgb, 224, 224)
    x = rescale(resized)
    mean = np.array([0.5, 0.5, 0.5], dtype=np.float32)
    std = np.array([0.5, 0.5, 0.5], dtype=np.float32)
    x = ((x - mean) / std).astype(np.float32)
    return resized, np.ascontiguousarray(x.transpose(2, 0, 1))[None]


def shortest_edge_size(h, w, size=288):
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    return (new_long, new_short) if w <= h else (new_short, new_long)   # (H, W)


def mobilevit_preprocess(rgb, crop=256):
    nh, nw = shortest_edge_size(rgb.shape[0], rgb.shape[1])
    resized = pil_resize(rgb, nh, nw)
    x = rescale(resized)
    top, left = (nh - crop) // 2, (nw - crop) // 2
    x = x[top:top + crop, left:left + crop, ::-1]            # center crop, RGB -> BGR
    return resized, np.ascontiguousarray(x.transpose(2, 0, 1))[None]


def make_small_image():
    """200x150 (WxH) crop of chelsea.png so MobileViT's shortest-edge-288 resize upscales."""
    path = os.path.join(IMAGES, "small.png")
    if not os.path.exists(path):
        img = Image.open(os.path.join(IMAGES, "chelsea.png")).convert("RGB")
        img.crop((130, 40, 330, 190)).save(path, optimize=False)
    return path


JPEG_PHOTOS = ["photo_exif6.jpg", "phone_420_q85.jpg", "progressive.jpg"]
JPEG_DECODING = ("transformers load_image: PIL.Image.open, ImageOps.exif_transpose, convert('RGB') "
                 "(Debian Pillow 9.4, libjpeg-turbo 2.1.5)")


def make_jpeg_photos():
    """JPEG photos for the goldens (Pillow's encoder, deterministic), from the sample PNGs:
    photo_exif6.jpg: coffee.png stored turned 90° counter-clockwise with EXIF Orientation 6 (q90 4:2:0), so
      load_image's exif_transpose turns it back; phone_420_q85.jpg: a 4:3 crop of astronaut.png at 512x384 with
      sensor-like seeded noise, q85 4:2:0 (a phone's settings); progressive.jpg: chelsea.png (451x300) progressive q88 4:2:0."""
    out = {}
    for name in JPEG_PHOTOS:
        path = os.path.join(IMAGES, name)
        out[name] = path
        if os.path.exists(path):
            continue
        if name == "photo_exif6.jpg":
            img = Image.open(os.path.join(IMAGES, "coffee.png")).convert("RGB").transpose(Image.ROTATE_90)
            exif = Image.Exif()
            exif[0x0112] = 6
            img.save(path, "JPEG", quality=90, subsampling=2, exif=exif.tobytes())
        elif name == "phone_420_q85.jpg":
            a = np.array(Image.open(os.path.join(IMAGES, "astronaut.png")).convert("RGB"))[64:448]
            noise = np.random.RandomState(85).randint(-4, 5, size=a.shape[:2] + (1,))
            a = np.clip(a.astype(np.int16) + noise, 0, 255).astype(np.uint8)
            Image.fromarray(a).save(path, "JPEG", quality=85, subsampling=2)
        else:
            Image.open(os.path.join(IMAGES, "chelsea.png")).convert("RGB").save(
                path, "JPEG", quality=88, subsampling=2, progressive=True)
    return out


# --------------------------------------------------------------------------------------------------
# BatchNorm calibration
# --------------------------------------------------------------------------------------------------
CALIB_IMAGES = ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg"]


def calibration_batch():
    """8 images: the 4 sample images preprocessed for MobileViT, and their horizontal mirrors."""
    xs = [mobilevit_preprocess(decode(os.path.join(IMAGES, n)))[1] for n in CALIB_IMAGES]
    xs += [np.ascontiguousarray(x[..., ::-1]) for x in xs]
    return np.concatenate(xs, axis=0)


def calibrate(seed):
    """One float64 eval pass over the calibration batch; a forward pre-hook on every BatchNorm sets
    running_mean / running_var (biased) to the per-channel batch statistics of that BN's input, rounded
    to float32, before that BN runs, so later layers see the already calibrated earlier ones."""
    state = mobilevit_state(seed, calibrated=False)
    model = build_model(MOBILEVIT, state, torch.float64)
    stats = {}
    bn_names = {m: n for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)}

    def hook(mod, inputs):
        x = inputs[0]
        mean = x.mean(dim=(0, 2, 3))
        var = ((x - mean[None, :, None, None]) ** 2).mean(dim=(0, 2, 3))
        mean32, var32 = mean.float(), var.float()
        mod.running_mean.copy_(mean32.double())
        mod.running_var.copy_(var32.double())
        stats[bn_names[mod]] = (mean32.numpy().copy(), var32.numpy().copy())

    handles = [m.register_forward_pre_hook(hook) for m in bn_names]
    with torch.no_grad():
        logits = model(torch.from_numpy(calibration_batch()).double())
    for h in handles:
        h.remove()
    assert len(stats) == 32
    tensors = []
    for name in sorted(stats):
        tensors.append((name + ".running_mean", stats[name][0]))
        tensors.append((name + ".running_var", stats[name][1]))
    meta = {
        "seed": str(seed),
        "model": MOBILEVIT,
        "format": "aot-vit synthetic BN calibration v1",
        "how": ("tools/reference.py --calibrate: synthetic weights (docs/ARCHITECTURE.md) for this seed; one eval "
                "pass in float64 over 8 images (" + ", ".join(CALIB_IMAGES) + " preprocessed like HF "
                "MobileViTImageProcessor, then their horizontal mirrors); each BatchNorm's running_mean/running_var "
                "set, in forward order, to the per-channel mean and biased variance of its input over (N,H,W), "
                "rounded to float32. Replaces the synthetic *.running_mean/*.running_var."),
        "uncalibrated_weights_fingerprint": repr(weights_fingerprint(state)),
    }
    size = st_write(CALIBRATION, tensors, meta)
    l = logits.numpy()
    print(f"calibration: wrote {os.path.relpath(CALIBRATION, REPO)} ({size} bytes, {len(tensors)} tensors)")
    print(f"  calibration-batch logits (float64 pass): min {l.min():.4f} max {l.max():.4f} "
          f"mean|x| {np.abs(l).mean():.4f} std {l.std():.4f}")
    return size


# --------------------------------------------------------------------------------------------------
# Goldens
# --------------------------------------------------------------------------------------------------
VIT_IMAGES = ["chelsea.png", "astronaut.png", "rocket.jpg"] + JPEG_PHOTOS
MOBILEVIT_IMAGES = ["chelsea.png", "coffee.png", "rocket.jpg", "small.png"] + JPEG_PHOTOS
BATCH_IMAGES = ["chelsea.png", "coffee.png"]


def stem(name):
    return os.path.splitext(name)[0]


def run(model, x):
    with torch.no_grad():
        out = model(torch.from_numpy(x))
    if isinstance(out, tuple):
        return [o.numpy().copy() for o in out]
    return out.numpy().copy()


def top5(v):
    v = np.asarray(v).reshape(-1)
    return [int(i) for i in np.argsort(-v.astype(np.float64), kind="stable")[:5]]


def golden_files(seed):
    """Returns list of (filename, tensors, metadata) for all goldens."""
    torch.set_num_threads(1)
    make_small_image()
    make_jpeg_photos()
    files = []
    import PIL
    common = {"seed": str(seed), "torch": torch.__version__, "numpy": np.__version__,
              "pillow": PIL.__version__, "writer": "tools/reference.py"}

    st = vit_state(seed)
    fp = repr(weights_fingerprint(st))
    vit = build_model(VIT, st)
    for img in VIT_IMAGES:
        rgb = load_image(os.path.join(IMAGES, img))
        resized, x = vit_preprocess(rgb)
        lhs, pooled = run(vit, x)
        meta = dict(common, model=VIT, image=img, weights_fingerprint=fp,
                    top5=json.dumps(top5(pooled)), top5_of="pooler_output",
                    preprocessing="resize 224x224 PIL BILINEAR, rescale 1/255, normalize 0.5/0.5, RGB, CHW")
        if img in JPEG_PHOTOS:
            meta["decoding"] = JPEG_DECODING
        files.append((f"{VIT}_{stem(img)}.safetensors",
                      [("decoded_rgb", rgb), ("resized_rgb", resized), ("pixel_values", x),
                       ("last_hidden_state", lhs), ("pooler_output", pooled)], meta))

    st = mobilevit_state(seed)
    fp = repr(weights_fingerprint(st))
    fp_raw = repr(weights_fingerprint(mobilevit_state(seed, calibrated=False)))
    mv = build_model(MOBILEVIT, st)
    mcommon = dict(common, model=MOBILEVIT, weights_fingerprint=fp, uncalibrated_weights_fingerprint=fp_raw,
                   calibration=os.path.relpath(CALIBRATION, REPO).replace(os.sep, "/"),
                   preprocessing="shortest edge 288 (int truncation) PIL BILINEAR, rescale 1/255, "
                                 "center crop 256 (floor offsets), RGB->BGR, CHW, no normalization")
    pix = {}
    for img in MOBILEVIT_IMAGES:
        rgb = load_image(os.path.join(IMAGES, img))
        resized, x = mobilevit_preprocess(rgb)
        pix[img] = x
        logits = run(mv, x)
        files.append((f"{MOBILEVIT}_{stem(img)}.safetensors",
                      [("decoded_rgb", rgb), ("resized_rgb", resized), ("pixel_values", x), ("logits", logits)],
                      dict(mcommon, image=img, top5=json.dumps(top5(logits)),
                           **({"decoding": JPEG_DECODING} if img in JPEG_PHOTOS else {}))))
    xb = np.concatenate([pix[i] for i in BATCH_IMAGES], axis=0)
    logits = run(mv, xb)
    files.append((f"{MOBILEVIT}_batch.safetensors", [("logits", logits)],
                  dict(mcommon, image=",".join(BATCH_IMAGES),
                       note="batch of 2 in this order; pixel_values are those of the single-image goldens "
                            + ", ".join(f"{MOBILEVIT}_{stem(i)}.safetensors" for i in BATCH_IMAGES),
                       top5=json.dumps([top5(r) for r in logits]))))
    return files


def write_goldens(seed):
    os.makedirs(GOLDEN, exist_ok=True)
    total = 0
    for fn, tensors, meta in golden_files(seed):
        size = st_write(os.path.join(GOLDEN, fn), tensors, meta)
        total += size
        outs = [(n, a) for n, a in tensors if n in ("last_hidden_state", "pooler_output", "logits")]
        desc = "  ".join(f"{n}{list(a.shape)} max|x| {np.abs(a).max():.4f}" for n, a in outs)
        print(f"golden {fn}: {size} bytes  {desc}  top5 {meta['top5']}")
    print(f"golden total {total} bytes")


# --------------------------------------------------------------------------------------------------
# Checks, checkpoints, ONNX, bench
# --------------------------------------------------------------------------------------------------
def print_weights(seed, spec_dir):
    for model in (VIT, MOBILEVIT):
        n = check_spec_tsv(model, spec_dir)
        print(f"{model}: {len(model_spec(model))} tensors" + (f" (match {spec_dir} tsv)" if n else ""))
    st = vit_state(seed)
    for name in ("embeddings.cls_token", "encoder.layer.0.attention.attention.query.weight"):
        v = st[name].reshape(-1)[:4]
        print(f"seed {seed} {name}[:4] = {[repr(float(a)) for a in v]}  bits {[hex(a) for a in v.view(np.uint32)]}")
    print(f"  fnv1a64('embeddings.cls_token') = {fnv1a64('embeddings.cls_token'):#018x}, "
          f"stream = {mix_int(seed ^ fnv1a64('embeddings.cls_token')):#018x}")
    print(f"{VIT} weights_fingerprint = {weights_fingerprint(st)!r}")
    raw = mobilevit_state(seed, calibrated=False)
    print(f"{MOBILEVIT} weights_fingerprint (uncalibrated) = {weights_fingerprint(raw)!r}")
    if os.path.exists(CALIBRATION):
        print(f"{MOBILEVIT} weights_fingerprint (calibrated)   = {weights_fingerprint(mobilevit_state(seed))!r}")


def selfcheck(seed):
    torch.set_num_threads(1)
    rgb = decode(os.path.join(IMAGES, "chelsea.png"))
    _, xv = vit_preprocess(rgb)
    _, xm = mobilevit_preprocess(rgb)
    for model, st, x in ((VIT, vit_state(seed), xv), (MOBILEVIT, mobilevit_state(seed), xm)):
        m32, m64 = build_model(model, st), build_model(model, st, torch.float64)
        o32 = run(m32, x)
        o64 = run(m64, x.astype(np.float64))
        o32 = o32 if isinstance(o32, list) else [o32]
        o64 = o64 if isinstance(o64, list) else [o64]
        names = ["last_hidden_state", "pooler_output"] if model == VIT else ["logits"]
        for n, a, b in zip(names, o32, o64):
            print(f"{model} {n}: float32 vs float64 max abs diff {np.abs(a - b).max():.3e}; "
                  f"max|x| {np.abs(b).max():.4f} mean|x| {np.abs(b).mean():.4f} std {b.std():.4f}")
    a = golden_files(seed)
    b = golden_files(seed)
    same = all(fa == fb and st_serialize(ta, ma) == st_serialize(tb, mb) for (fa, ta, ma), (fb, tb, mb) in zip(a, b))
    print(f"determinism: two in-process golden runs byte-identical: {same}")
    ondisk = all(os.path.exists(os.path.join(GOLDEN, f)) and
                 open(os.path.join(GOLDEN, f), "rb").read() == st_serialize(t, m) for f, t, m in a)
    print(f"determinism: golden files on disk identical to a fresh run: {ondisk}")


def write_checkpoints(out_dir, seed, torch_bin=False):
    for model, st in ((VIT, vit_state(seed)), (MOBILEVIT, mobilevit_state(seed, calibrated=False))):
        spec = model_spec(model)
        path = os.path.join(out_dir, model, "model.safetensors")
        meta = {"format": "pt", "seed": str(seed), "note": "aot-vit synthetic weights (docs/ARCHITECTURE.md)",
                "weights_fingerprint": repr(weights_fingerprint(st))}
        size = st_write(path, [(n, st[n]) for n, _ in spec], meta)
        print(f"wrote {path} ({size} bytes)")
        back, _ = st_read(path)
        assert all(np.array_equal(back[n], st[n]) for n, _ in spec)
        if torch_bin:
            write_torch_bin(os.path.join(out_dir, model, "pytorch_model.bin"), [(n, st[n]) for n, _ in spec])


def write_torch_bin(path, tensors):
    """The same tensors as torch.save writes a module's state dict (transformers' save_pretrained before safetensors):
    an OrderedDict in state-dict order, carrying `_metadata`, in torch's zip format (torch >= 1.6)."""
    import collections
    sd = collections.OrderedDict((n, torch.from_numpy(np.array(a, order="C"))) for n, a in tensors)
    sd._metadata = collections.OrderedDict([("", {"version": 1})])
    tmp = path + ".tmp"
    torch.save(sd, tmp)
    os.replace(tmp, path)
    back = torch.load(path)
    assert list(back) == [n for n, _ in tensors]
    assert all(back[n].shape == a.shape and np.array_equal(back[n].numpy(), a) for n, a in tensors)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def export_onnx(out_dir, seed):
    os.makedirs(out_dir, exist_ok=True)
    opset = 17
    for model, st, size, outs in ((VIT, vit_state(seed), 224, ["last_hidden_state", "pooler_output"]),
                                  (MOBILEVIT, mobilevit_state(seed), 256, ["logits"])):
        m = build_model(model, st)
        x = torch.zeros(1, 3, size, size)
        path = os.path.join(out_dir, model + ".onnx")
        dyn = {"pixel_values": {0: "batch"}}
        dyn.update({o: {0: "batch"} for o in outs})
        with torch.no_grad():
            torch.onnx.export(m, (x,), path, input_names=["pixel_values"], output_names=outs,
                              dynamic_axes=dyn, opset_version=opset, do_constant_folding=True)
        print(f"exported {path} ({os.path.getsize(path)} bytes, opset {opset})")


def bench_torch(seed, runs, json_out=None):
    models = [(VIT, build_model(VIT, vit_state(seed)), 224), (MOBILEVIT, build_model(MOBILEVIT, mobilevit_state(seed)), 256)]
    rows = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for name, m, size in models:
            for batch in (1, 8):
                x = torch.from_numpy(np.random.RandomState(0).rand(batch, 3, size, size).astype(np.float32))
                with torch.no_grad():
                    for _ in range(2):
                        m(x)
                    ts = []
                    for _ in range(runs):
                        t0 = time.perf_counter()
                        m(x)
                        ts.append(time.perf_counter() - t0)
                med = float(np.median(ts)) * 1e3
                p10, p90 = (float(np.percentile(ts, q)) * 1e3 for q in (10, 90))
                rows.append((name, threads, batch, med, med / batch, p10, p90, len(ts)))
                print(f"  {name:28s} threads {threads} batch {batch}: median {med:9.2f} ms ({med / batch:8.2f} ms/img)", flush=True)
    print(f"\ntorch {torch.__version__} eager, float32, median of {runs} runs")
    print("| model | threads | batch | median ms | ms/image |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f} | {r[4]:.2f} |")
    if json_out:
        os.makedirs(os.path.dirname(os.path.abspath(json_out)), exist_ok=True)
        with open(json_out, "w") as f:
            json.dump({"torch_version": torch.__version__, "rows": [
                {"model": r[0], "threads": r[1], "batch": r[2], "median_ms": r[3], "p10_ms": r[5], "p90_ms": r[6], "runs": r[7]}
                for r in rows]}, f, indent=1)
        print(f"wrote {json_out}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--spec-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "AotVit.Tests", "data", "spec"), help="optional tensors_*.tsv to cross-check names")
    ap.add_argument("--print-weights", action="store_true")
    ap.add_argument("--calibrate", action="store_true")
    ap.add_argument("--goldens", action="store_true")
    ap.add_argument("--selfcheck", action="store_true")
    ap.add_argument("--write-checkpoint", metavar="DIR")
    ap.add_argument("--torch-bin", action="store_true", help="with --write-checkpoint: also DIR/<model>/pytorch_model.bin")
    ap.add_argument("--export-onnx", metavar="DIR")
    ap.add_argument("--bench-torch", action="store_true")
    ap.add_argument("--bench-runs", type=int, default=10)
    ap.add_argument("--json", metavar="OUT", help="with --bench-torch: also write the rows as JSON (read by bench/AotVit.Bench)")
    a = ap.parse_args(argv)
    if not (a.print_weights or a.calibrate or a.goldens or a.selfcheck or a.write_checkpoint
            or a.export_onnx or a.bench_torch):
        a.print_weights = a.calibrate = a.goldens = True
    torch.set_num_threads(1)
    if a.print_weights:
        print_weights(a.seed, a.spec_dir)
    if a.calibrate:
        calibrate(a.seed)
    if a.goldens:
        write_goldens(a.seed)
    if a.selfcheck:
        selfcheck(a.seed)
    if a.write_checkpoint:
        write_checkpoints(a.write_checkpoint, a.seed, a.torch_bin)
    if a.export_onnx:
        export_onnx(a.export_onnx, a.seed)
    if a.bench_torch:
        bench_torch(a.seed, a.bench_runs, a.json)


if __name__ == "__main__":
    main()
