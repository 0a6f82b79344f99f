#!/usr/bin/python3
"""PyTorch reference for every compiled model, built from its folder's HF files (src/Graphs/<model>/).

Run with Debian's interpreter (torch 1.13, numpy 1.24, Pillow 9.4):

    /usr/bin/python3 tools/reference_family.py                      # = --calibrate --goldens for FAMILY_MODELS
    /usr/bin/python3 tools/reference_family.py --models a,b --goldens
    /usr/bin/python3 tools/reference_family.py --calibrate          # src/Graphs/<mobilevit>/synthetic-bn-calibration.safetensors
    /usr/bin/python3 tools/reference_family.py --selfcheck          # this builder against the seed goldens of tools/reference.py
    /usr/bin/python3 tools/reference_family.py --export-onnx DIR    # DIR/<model>.onnx (gitignored)

Architectures (re-implemented from transformers' models/vit/modeling_vit.py, models/deit/modeling_deit.py and
models/mobilevit/modeling_mobilevit.py, with the real state-dict names), chosen by config.json "architectures":
  ViTModel                               embeddings, encoder, final LayerNorm, pooler tanh(dense(token 0))
  ViTForImageClassification              vit.* (no pooler); logits = classifier(final-layer-normed token 0)
  DeiTForImageClassificationWithTeacher  deit.* with [CLS] and distillation tokens (position embeddings for both);
                                         logits = (cls_classifier(token 0) + distillation_classifier(token 1)) / 2
  MobileViTForImageClassification        widths (neck_hidden_sizes, hidden_sizes), expand_ratio, heads, mlp_ratio,
                                         patch_size and kernel size from the config
Preprocessing follows the slow image processor that AutoImageProcessor picks for the model_type (ViTImageProcessor,
DeiTImageProcessor, MobileViTImageProcessor), with each processor's defaults for fields the file leaves out.

Golden files (tests/AotVit.Tests/data/golden/<model>_<image>.safetensors) hold the outputs only; the preprocessed
pixels are pinned by SHA-256 digests in the metadata (decoded_rgb, resized_rgb, pixel_values as little-endian bytes).
The shared pieces (synthetic weights, safetensors I/O, layers, decode/rescale) come from tools/reference.py.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402  (tools/reference.py: weights, safetensors, layers, decode)

GRAPHS = os.path.join(ref.REPO, "src", "Graphs")
FAMILY_MODELS = ["vit-base-patch16-224", "deit-small-distilled-patch16-224", "mobilevit-x-small", "mobilevit-xx-small"]
GOLDEN_IMAGES = ["chelsea.png", "coffee.png", "astronaut.png"]
CALIBRATION_FILE = "synthetic-bn-calibration.safetensors"


# --------------------------------------------------------------------------------------------------
# Model folders
# --------------------------------------------------------------------------------------------------
class Folder:
    """One model folder: config.json, preprocessor_config.json and (optionally) hub.json."""

    def __init__(self, name):
        self.name = name
        self.path = os.path.join(GRAPHS, name)
        if not os.path.isdir(self.path):
            raise SystemExit(f"no model folder {self.path}")
        with open(os.path.join(self.path, "config.json")) as f:
            self.config = json.load(f)
        with open(os.path.join(self.path, "preprocessor_config.json")) as f:
            self.preprocessor = json.load(f)
        archs = self.config.get("architectures") or []
        if len(archs) != 1:
            raise SystemExit(f"{name}: config.json 'architectures' must name one class, found {archs}")
        self.architecture = archs[0]
        self.model_type = self.config.get("model_type")

    @property
    def calibration_path(self):
        return os.path.join(self.path, CALIBRATION_FILE)

    def cfg(self, key, default):
        return self.config.get(key, default)


def activation(name):
    # HF ACT2FN: "gelu" is the exact erf GELU, "silu"/"swish" is SiLU.
    if name == "gelu":
        return F.gelu
    if name in ("silu", "swish"):
        return F.silu
    raise SystemExit(f"hidden_act '{name}' is not implemented by the reference")


def num_labels(cfg):
    return len(cfg["id2label"]) if "id2label" in cfg else 2


# --------------------------------------------------------------------------------------------------
# ViT / DeiT from config
# --------------------------------------------------------------------------------------------------
class PatchEmbeddingsCfg(nn.Module):
    def __init__(self, channels, d, patch):
        super().__init__()
        self.projection = nn.Conv2d(channels, d, kernel_size=patch, stride=patch)

    def forward(self, x):
        return self.projection(x).flatten(2).transpose(1, 2)   # [B, (S/p)^2, D], token = row*(S/p) + col


class EmbeddingsCfg(nn.Module):
    """ViTEmbeddings, or DeiTEmbeddings when distillation: cat(cls, [distillation,] patches) + position_embeddings."""

    def __init__(self, channels, d, patch, image, distillation):
        super().__init__()
        if image % patch != 0:
            raise SystemExit(f"image_size {image} is not a multiple of patch_size {patch}")
        n = (image // patch) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        if distillation:
            self.distillation_token = nn.Parameter(torch.zeros(1, 1, d))
        self.distillation = distillation
        self.position_embeddings = nn.Parameter(torch.zeros(1, n + (2 if distillation else 1), d))
        self.patch_embeddings = PatchEmbeddingsCfg(channels, d, patch)

    def forward(self, x):
        p = self.patch_embeddings(x)
        tokens = [self.cls_token.expand(p.shape[0], -1, -1)]
        if self.distillation:
            tokens.append(self.distillation_token.expand(p.shape[0], -1, -1))
        return torch.cat(tokens + [p], dim=1) + self.position_embeddings


class EncoderCfg(nn.Module):
    """ViTModel / DeiTModel body: embeddings, pre-norm layers, final LayerNorm (and the pooler when with_pooler)."""

    def __init__(self, cfg, distillation, with_pooler):
        super().__init__()
        d = cfg["hidden_size"]
        heads = cfg["num_attention_heads"]
        eps = cfg.get("layer_norm_eps", 1e-12)
        if not cfg.get("qkv_bias", True):
            raise SystemExit("qkv_bias false is not implemented by the reference")
        act = activation(cfg.get("hidden_act", "gelu"))
        self.embeddings = EmbeddingsCfg(cfg.get("num_channels", 3), d, cfg["patch_size"], cfg["image_size"], distillation)
        # ViT/DeiT scale scores by head_dim ** -0.5 (a multiplication), as reference.TransformerLayer does with False.
        self.encoder = ref.Layers([ref.TransformerLayer(d, heads, cfg["intermediate_size"], eps, act, False)
                                   for _ in range(cfg["num_hidden_layers"])])
        self.layernorm = nn.LayerNorm(d, eps=eps)
        if with_pooler:
            self.pooler = ref.Dense(d, d)
        self.with_pooler = with_pooler

    def forward(self, x):
        h = self.layernorm(self.encoder(self.embeddings(x)))
        if self.with_pooler:
            return h, torch.tanh(self.pooler(h[:, 0]))
        return h


class ViTModelCfg(nn.Module):
    outputs = ["last_hidden_state", "pooler_output"]

    def __init__(self, cfg):
        super().__init__()
        body = EncoderCfg(cfg, distillation=False, with_pooler=True)
        # ViTModel's state dict has no prefix: adopt the body's children directly.
        self.embeddings, self.encoder, self.layernorm, self.pooler = body.embeddings, body.encoder, body.layernorm, body.pooler

    def forward(self, x):
        h = self.layernorm(self.encoder(self.embeddings(x)))
        return h, torch.tanh(self.pooler(h[:, 0]))


class ViTForImageClassificationCfg(nn.Module):
    outputs = ["logits"]

    def __init__(self, cfg):
        super().__init__()
        self.vit = EncoderCfg(cfg, distillation=False, with_pooler=False)
        self.classifier = nn.Linear(cfg["hidden_size"], num_labels(cfg))

    def forward(self, x):
        return self.classifier(self.vit(x)[:, 0, :])


class DeiTForImageClassificationWithTeacherCfg(nn.Module):
    outputs = ["logits"]

    def __init__(self, cfg):
        super().__init__()
        self.deit = EncoderCfg(cfg, distillation=True, with_pooler=False)
        self.cls_classifier = nn.Linear(cfg["hidden_size"], num_labels(cfg))
        self.distillation_classifier = nn.Linear(cfg["hidden_size"], num_labels(cfg))

    def forward(self, x):
        h = self.deit(x)
        return (self.cls_classifier(h[:, 0, :]) + self.distillation_classifier(h[:, 1, :])) / 2


# --------------------------------------------------------------------------------------------------
# MobileViT from config
# --------------------------------------------------------------------------------------------------
class MobileViTBlockCfg(ref.MobileViTBlock):
    """HF MobileViTLayer (stride 2, dilation 1): reference.MobileViTBlock's unfold / fold / forward with the
    widths, expand ratio, heads, MLP ratio and patch size of the config."""

    def __init__(self, cfg, cin, c, d, depth):
        nn.Module.__init__(self)
        k = cfg.get("conv_kernel_size", 3)
        eps = cfg.get("layer_norm_eps", 1e-5)
        act = activation(cfg.get("hidden_act", "silu"))
        heads = cfg.get("num_attention_heads", 4)
        self.ph = self.pw = cfg.get("patch_size", 2)
        self.downsampling_layer = ref.InvertedResidual(cin, c, 2, cfg.get("expand_ratio", 4.0))
        self.conv_kxk = ref.ConvLayer(c, c, k)
        self.conv_1x1 = ref.ConvLayer(c, d, 1, bn=False, act=False)
        # MobileViT divides the scores by sqrt(head_dim) (reference.TransformerLayer with True).
        self.transformer = ref.Layers([ref.TransformerLayer(d, heads, int(d * cfg.get("mlp_ratio", 2.0)), eps, act, True)
                                       for _ in range(depth)])
        self.layernorm = nn.LayerNorm(d, eps=eps)
        self.conv_projection = ref.ConvLayer(d, c, 1)
        self.fusion = ref.ConvLayer(2 * c, c, k)


class MobileViTEncoderCfg(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        n = cfg["neck_hidden_sizes"]
        hs = cfg["hidden_sizes"]
        e = cfg.get("expand_ratio", 4.0)
        self.layer = nn.ModuleList([
            ref.Layers([ref.InvertedResidual(n[0], n[1], 1, e)]),
            ref.Layers([ref.InvertedResidual(n[1], n[2], 2, e), ref.InvertedResidual(n[2], n[2], 1, e),
                        ref.InvertedResidual(n[2], n[2], 1, e)]),
            MobileViTBlockCfg(cfg, n[2], n[3], hs[0], 2),
            MobileViTBlockCfg(cfg, n[3], n[4], hs[1], 4),
            MobileViTBlockCfg(cfg, n[4], n[5], hs[2], 3),
        ])

    def forward(self, x):
        for m in self.layer:
            x = m(x)
        return x


class MobileViTBackboneCfg(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        n = cfg["neck_hidden_sizes"]
        self.conv_stem = ref.ConvLayer(cfg.get("num_channels", 3), n[0], cfg.get("conv_kernel_size", 3), stride=2)
        self.encoder = MobileViTEncoderCfg(cfg)
        self.conv_1x1_exp = ref.ConvLayer(n[5], n[6], 1)

    def forward(self, x):
        return torch.mean(self.conv_1x1_exp(self.encoder(self.conv_stem(x))), dim=[-2, -1])


class MobileViTForImageClassificationCfg(nn.Module):
    outputs = ["logits"]

    def __init__(self, cfg):
        super().__init__()
        if cfg.get("output_stride", 32) != 32:
            raise SystemExit("output_stride != 32 (dilated layers) is not implemented by the reference")
        if cfg.get("hidden_act", "silu") not in ("silu", "swish"):
            raise SystemExit("MobileViT's ConvLayer activation is implemented as SiLU only")
        self.mobilevit = MobileViTBackboneCfg(cfg)
        self.classifier = nn.Linear(cfg["neck_hidden_sizes"][6], num_labels(cfg))

    def forward(self, x):
        return self.classifier(self.mobilevit(x))   # dropout: no-op in eval


ARCHITECTURES = {
    "ViTModel": ViTModelCfg,
    "ViTForImageClassification": ViTForImageClassificationCfg,
    "DeiTForImageClassificationWithTeacher": DeiTForImageClassificationWithTeacherCfg,
    "MobileViTForImageClassification": MobileViTForImageClassificationCfg,
}


def model_class(folder):
    cls = ARCHITECTURES.get(folder.architecture)
    if cls is None:
        raise SystemExit(f"{folder.name}: architecture {folder.architecture} is not implemented by the reference "
                         f"(implemented: {', '.join(sorted(ARCHITECTURES))})")
    return cls


def spec(folder):
    return [(k, tuple(v.shape)) for k, v in model_class(folder)(folder.config).state_dict().items()]


def has_batchnorm(folder):
    return any(isinstance(m, nn.BatchNorm2d) for m in model_class(folder)(folder.config).modules())


def state(folder, seed, calibrated=True):
    """Synthetic checkpoint (docs/ARCHITECTURE.md); BatchNorm statistics from the folder's calibration file."""
    st = ref.synthetic_state(spec(folder), seed)
    if calibrated and has_batchnorm(folder):
        path = folder.calibration_path
        if not os.path.exists(path):
            raise SystemExit(f"missing {path}; run tools/reference_family.py --calibrate --models {folder.name}")
        cal, meta = ref.st_read(path)
        if meta.get("seed") != str(seed):
            raise SystemExit(f"{path} is for seed {meta.get('seed')}, not {seed}")
        for k, v in cal.items():
            if k not in st or st[k].shape != v.shape or v.dtype != np.float32:
                raise SystemExit(f"{path}: tensor {k} {v.dtype}{list(v.shape)} does not fit the model")
            st[k] = v
    return st


def build(folder, st, dtype=torch.float32):
    m = model_class(folder)(folder.config)
    m.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in st.items()}, strict=True)
    m.eval()
    if dtype == torch.float64:
        m.double()
    return m


# --------------------------------------------------------------------------------------------------
# Preprocessing: the slow image processors (PIL path)
# --------------------------------------------------------------------------------------------------
IMAGENET_STANDARD = ([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])   # ViT's and DeiT's image_mean / image_std defaults

# Per model_type: the image processor's __init__ defaults, and whether an int size means a square
# (get_size_dict default_to_square=True) or the shortest edge (MobileViT: default_to_square=False).
PROCESSORS = {
    "vit": dict(name="ViTImageProcessor", size={"height": 224, "width": 224}, resample=2, do_resize=True,
                do_rescale=True, do_normalize=True, mean_std=IMAGENET_STANDARD, do_center_crop=False, crop_size=None,
                do_flip_channel_order=False, int_size_is_square=True),
    "deit": dict(name="DeiTImageProcessor", size={"height": 256, "width": 256}, resample=3, do_resize=True,
                 do_rescale=True, do_normalize=True, mean_std=IMAGENET_STANDARD, do_center_crop=True,
                 crop_size={"height": 224, "width": 224}, do_flip_channel_order=False, int_size_is_square=True),
    "mobilevit": dict(name="MobileViTImageProcessor", size={"shortest_edge": 224}, resample=2, do_resize=True,
                      do_rescale=True, do_normalize=False, mean_std=None, do_center_crop=True,
                      crop_size={"height": 256, "width": 256}, do_flip_channel_order=True, int_size_is_square=False),
}


def size_dict(value, square):
    if isinstance(value, dict):
        return value
    if isinstance(value, int):
        return {"height": value, "width": value} if square else {"shortest_edge": value}
    raise SystemExit(f"size {value!r} is not an int or a dict")


class Processor:
    def __init__(self, folder):
        d = PROCESSORS.get(folder.model_type)
        if d is None:
            raise SystemExit(f"{folder.name}: no image processor for model_type {folder.model_type}")
        p = folder.preprocessor
        self.name = d["name"]
        self.do_resize = p.get("do_resize", d["do_resize"])
        self.size = size_dict(p.get("size", d["size"]), d["int_size_is_square"])
        self.resample = p.get("resample", d["resample"])
        self.do_rescale = p.get("do_rescale", d["do_rescale"])
        self.rescale_factor = p.get("rescale_factor", 1 / 255)
        self.do_normalize = p.get("do_normalize", d["do_normalize"])
        mean_std = d["mean_std"] or (None, None)
        self.mean = p.get("image_mean", mean_std[0])
        self.std = p.get("image_std", mean_std[1])
        self.do_center_crop = p.get("do_center_crop", d["do_center_crop"])
        crop = p.get("crop_size", d["crop_size"])
        # crop_size goes through get_size_dict(param_name="crop_size"), square for an int in every processor.
        self.crop_size = size_dict(crop, True) if crop is not None else None
        # MobileViT's processor knows only do_flip_channel_order (default True); older files' "do_flip_channels"
        # is an unknown key that it ignores.
        self.flip = p.get("do_flip_channel_order", d["do_flip_channel_order"])
        if self.resample not in (2, 3):
            raise SystemExit(f"{folder.name}: resample {self.resample} (only 2 BILINEAR and 3 BICUBIC are implemented)")

    def resize_shape(self, h, w):
        if "height" in self.size and "width" in self.size:
            return self.size["height"], self.size["width"]
        if "shortest_edge" in self.size:
            return ref.shortest_edge_size(h, w, self.size["shortest_edge"])
        raise SystemExit(f"size {self.size} is not implemented")

    def describe(self):
        parts = []
        if self.do_resize:
            parts.append(f"resize {self.size} PIL {'BICUBIC' if self.resample == 3 else 'BILINEAR'}")
        if self.do_center_crop:
            parts.append(f"center crop {self.crop_size['height']}x{self.crop_size['width']} (floor offsets)")
        if self.do_rescale:
            parts.append(f"rescale {self.rescale_factor:.10g}")
        if self.do_normalize:
            parts.append(f"normalize mean {self.mean} std {self.std}")
        if self.flip:
            parts.append("RGB->BGR")
        return f"{self.name}: " + ", ".join(parts + ["CHW"])

    def __call__(self, rgb):
        """rgb: decoded uint8 [H, W, 3]. Returns (resized uint8, pixel_values float32 [1, 3, h, w])."""
        resized = rgb
        if self.do_resize:
            nh, nw = self.resize_shape(rgb.shape[0], rgb.shape[1])
            if (nh, nw) != rgb.shape[:2]:
                filt = Image.BICUBIC if self.resample == 3 else Image.BILINEAR
                resized = np.array(Image.fromarray(rgb).resize((nw, nh), resample=filt), dtype=np.uint8)
            else:
                resized = rgb.copy()
        x = resized
        if self.do_center_crop:
            ch, cw = self.crop_size["height"], self.crop_size["width"]
            h, w = x.shape[:2]
            if ch > h or cw > w:
                raise SystemExit("center crop larger than the image (HF pads) is not implemented")
            top, left = (h - ch) // 2, (w - cw) // 2
            x = x[top:top + ch, left:left + cw]
        if self.do_rescale:
            x = (x.astype(np.float64) * self.rescale_factor).astype(np.float32)   # HF rescale: float64 product, float32
        else:
            x = x.astype(np.float32)
        if self.do_normalize:
            mean = np.array(self.mean, dtype=np.float32)
            std = np.array(self.std, dtype=np.float32)
            x = ((x - mean) / std).astype(np.float32)                             # HF normalize in the image's dtype
        if self.flip:
            x = x[..., ::-1]
        return resized, np.ascontiguousarray(x.transpose(2, 0, 1))[None]


# --------------------------------------------------------------------------------------------------
# BatchNorm calibration (same procedure as tools/reference.py --calibrate, for any MobileViT folder)
# --------------------------------------------------------------------------------------------------
def calibration_batch(folder):
    """8 images: reference.CALIB_IMAGES through the folder's processor, and their horizontal mirrors."""
    proc = Processor(folder)
    xs = [proc(ref.decode(os.path.join(ref.IMAGES, n)))[1] for n in ref.CALIB_IMAGES]
    xs += [np.ascontiguousarray(x[..., ::-1]) for x in xs]
    return np.concatenate(xs, axis=0)


def calibration_tensors(folder, seed):
    """One float64 eval pass; a pre-hook on each BatchNorm sets its running_mean / biased running_var to the
    per-channel statistics of its input (rounded to float32) before it runs, so later layers see calibrated ones."""
    st = state(folder, seed, calibrated=False)
    model = build(folder, st, torch.float64)
    names = {m: n for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)}
    stats = {}

    def hook(mod, inputs):
        x = inputs[0]
        mean = x.mean(dim=(0, 2, 3))
        var = ((x - mean[None, :, None, None]) ** 2).mean(dim=(0, 2, 3))
        mod.running_mean.copy_(mean.float().double())
        mod.running_var.copy_(var.float().double())
        stats[names[mod]] = (mean.float().numpy().copy(), var.float().numpy().copy())

    handles = [m.register_forward_pre_hook(hook) for m in names]
    with torch.no_grad():
        logits = model(torch.from_numpy(calibration_batch(folder)).double())
    for h in handles:
        h.remove()
    if len(stats) != len(names):
        raise SystemExit(f"{folder.name}: {len(names) - len(stats)} BatchNorm layers did not run")
    tensors = []
    for name in sorted(stats):
        tensors.append((name + ".running_mean", stats[name][0]))
        tensors.append((name + ".running_var", stats[name][1]))
    meta = {
        "seed": str(seed),
        "model": folder.name,
        "format": "aot-vit synthetic BN calibration v1",
        "how": ("tools/reference_family.py --calibrate: synthetic weights (docs/ARCHITECTURE.md) for this seed; one "
                "eval pass in float64 over 8 images (" + ", ".join(ref.CALIB_IMAGES) + " through the model's image "
                "processor, then their horizontal mirrors); each BatchNorm's running_mean/running_var set, in forward "
                "order, to the per-channel mean and biased variance of its input over (N,H,W), rounded to float32. "
                "Replaces the synthetic *.running_mean/*.running_var."),
        "uncalibrated_weights_fingerprint": repr(ref.weights_fingerprint(st)),
    }
    return tensors, meta, logits.numpy()


def calibrate(folder, seed):
    tensors, meta, l = calibration_tensors(folder, seed)
    size = ref.st_write(folder.calibration_path, tensors, meta)
    print(f"calibration: wrote {os.path.relpath(folder.calibration_path, ref.REPO)} ({size} bytes, {len(tensors)} tensors); "
          f"float64 logits min {l.min():.4f} max {l.max():.4f} std {l.std():.4f}")


# --------------------------------------------------------------------------------------------------
# Goldens
# --------------------------------------------------------------------------------------------------
def sha256(a):
    a = np.ascontiguousarray(a)
    return hashlib.sha256(a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()).hexdigest()


def outputs_of(model, x):
    out = ref.run(model, x)
    return out if isinstance(out, list) else [out]


def golden_files(folder, seed, images):
    torch.set_num_threads(1)
    import PIL
    st = state(folder, seed)
    model = build(folder, st)
    proc = Processor(folder)
    common = {"seed": str(seed), "torch": torch.__version__, "numpy": np.__version__, "pillow": PIL.__version__,
              "writer": "tools/reference_family.py", "model": folder.name, "architecture": folder.architecture,
              "weights_fingerprint": repr(ref.weights_fingerprint(st)), "preprocessing": proc.describe()}
    if has_batchnorm(folder):
        common["calibration"] = os.path.relpath(folder.calibration_path, ref.REPO).replace(os.sep, "/")
    files = []
    for img in images:
        rgb = ref.decode(os.path.join(ref.IMAGES, img))
        resized, x = proc(rgb)
        outs = outputs_of(model, x)
        names = model_class(folder).outputs
        meta = dict(common, image=img,
                    decoded_rgb_shape=json.dumps(list(rgb.shape)), decoded_rgb_sha256=sha256(rgb),
                    resized_rgb_shape=json.dumps(list(resized.shape)), resized_rgb_sha256=sha256(resized),
                    pixel_values_shape=json.dumps(list(x.shape)), pixel_values_sha256=sha256(x),
                    top5=json.dumps(ref.top5(outs[-1])), top5_of=names[-1])
        files.append((f"{folder.name}_{ref.stem(img)}.safetensors", list(zip(names, outs)), meta))
    return files


def write_goldens(folder, seed, images):
    for fn, tensors, meta in golden_files(folder, seed, images):
        size = ref.st_write(os.path.join(ref.GOLDEN, fn), tensors, meta)
        desc = "  ".join(f"{n}{list(a.shape)} max|x| {np.abs(a).max():.4f}" for n, a in tensors)
        print(f"golden {fn}: {size} bytes  {desc}  top5 {meta['top5']}")


# --------------------------------------------------------------------------------------------------
# Checks, ONNX
# --------------------------------------------------------------------------------------------------
def selfcheck(seed):
    """The generic builders against tools/reference.py's hard-wired seed models: same tensor names and shapes,
    the same calibration bytes for mobilevit-small, and bit-identical pixels and outputs on the seed goldens."""
    torch.set_num_threads(1)
    ok = True
    for name, hard in ((ref.VIT, ref.VIT), (ref.MOBILEVIT, ref.MOBILEVIT)):
        folder = Folder(name)
        same_spec = sorted(spec(folder)) == sorted(ref.model_spec(hard))
        print(f"{name}: tensor names and shapes equal reference.py's: {same_spec}")
        ok &= same_spec
    mv = Folder(ref.MOBILEVIT)
    tensors, meta, _ = calibration_tensors(mv, seed)
    on_disk = open(mv.calibration_path, "rb").read()
    _, old_meta = ref.st_read(mv.calibration_path)
    same_values = all(np.array_equal(v, ref.st_read(mv.calibration_path)[0][k]) for k, v in tensors)
    print(f"{mv.name}: calibration values equal the committed file's: {same_values} "
          f"(file bytes differ only by the 'how' text: {ref.st_serialize(tensors, dict(meta, how=old_meta['how'])) == on_disk})")
    ok &= same_values
    for name, images in ((ref.VIT, ref.VIT_IMAGES), (ref.MOBILEVIT, ref.MOBILEVIT_IMAGES)):
        folder = Folder(name)
        model = build(folder, state(folder, seed))
        proc = Processor(folder)
        for img in images:
            g, _ = ref.st_read(os.path.join(ref.GOLDEN, f"{name}_{ref.stem(img)}.safetensors"))
            _, x = proc(ref.decode(os.path.join(ref.IMAGES, img)))
            outs = outputs_of(model, x)
            px = np.array_equal(x, g["pixel_values"])
            diffs = [float(np.abs(o - g[n]).max()) for n, o in zip(model_class(folder).outputs, outs)]
            print(f"{name} {img}: pixel_values bit-identical {px}; outputs max abs diff {diffs}")
            ok &= px and all(d == 0.0 for d in diffs)
    for name in FAMILY_MODELS:
        folder = Folder(name)
        st = state(folder, seed)
        x = Processor(folder)(ref.decode(os.path.join(ref.IMAGES, "chelsea.png")))[1]
        o32 = outputs_of(build(folder, st), x)[-1]
        o64 = outputs_of(build(folder, st, torch.float64), x.astype(np.float64))[-1]
        print(f"{name}: float32 vs float64 max abs diff {np.abs(o32 - o64).max():.3e}; max|x| {np.abs(o64).max():.4f} "
              f"std {o64.std():.4f}")
    print("selfcheck " + ("passed" if ok else "FAILED"))
    return ok


def export_onnx(folder, seed, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    m = build(folder, state(folder, seed))
    proc = Processor(folder)
    s = proc.crop_size if proc.do_center_crop else proc.size
    x = torch.zeros(1, 3, s["height"], s["width"])
    outs = model_class(folder).outputs
    path = os.path.join(out_dir, folder.name + ".onnx")
    dyn = {"pixel_values": {0: "batch"}}
    dyn.update({o: {0: "batch"} for o in outs})
    with torch.no_grad():
        torch.onnx.export(m, (x,), path, input_names=["pixel_values"], output_names=outs, dynamic_axes=dyn,
                          opset_version=17, do_constant_folding=True)
    print(f"exported {path} ({os.path.getsize(path)} bytes, opset 17)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--models", default=",".join(FAMILY_MODELS), help="comma-separated folder names under src/Graphs")
    ap.add_argument("--images", default=",".join(GOLDEN_IMAGES))
    ap.add_argument("--calibrate", action="store_true", help="write the BatchNorm calibration of each model that has BatchNorm")
    ap.add_argument("--goldens", action="store_true")
    ap.add_argument("--selfcheck", action="store_true")
    ap.add_argument("--export-onnx", metavar="DIR")
    a = ap.parse_args(argv)
    if not (a.calibrate or a.goldens or a.selfcheck or a.export_onnx):
        a.calibrate = a.goldens = True
    torch.set_num_threads(1)
    folders = [Folder(n) for n in a.models.split(",") if n]
    images = [i for i in a.images.split(",") if i]
    if a.calibrate:
        for f in folders:
            if has_batchnorm(f):
                calibrate(f, a.seed)
    if a.goldens:
        for f in folders:
            write_goldens(f, a.seed, images)
    if a.selfcheck and not selfcheck(a.seed):
        sys.exit(1)
    if a.export_onnx:
        for f in folders:
            export_onnx(f, a.seed, a.export_onnx)


if __name__ == "__main__":
    main()
