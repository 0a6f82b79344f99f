#!/usr/bin/python3
"""Independent check of tools/onnx_quantize.py's MatMul rewrite, without ONNX Runtime (not installable here):
the PyTorch reference models of tools/reference.py with every nn.Linear replaced by what the rewritten graph computes
(ONNX DynamicQuantizeLinear on the input: u8, per tensor, scale = (max(x,0) - min(x,0)) / 255, zero point =
round(-min/scale), round half to even, saturated; weight per tensor symmetric int8 as onnx_quantize.quantize_weight;
the integer product exact (float64 holds the int32 sums exactly), cast to float32, times a_scale * w_scale, + bias).
That is the `<model>.int8-matmul.onnx` variant (convs float). Runs the golden images' pixel_values and reports cosine,
max abs diff and top-5 agreement against the float32 goldens, to compare with the bench's ORT int8 MatMul-only rows.

    /usr/bin/python3 tools/onnx_int8_check.py
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402
from onnx_quantize import quantize_weight  # noqa: E402


def dynamic_quantize_linear(x):
    """ONNX DynamicQuantizeLinear (opset 11), float64 arithmetic on float32 values as the spec writes it."""
    x = x.astype(np.float32)
    lo = min(float(x.min()), 0.0)
    hi = max(float(x.max()), 0.0)
    scale = np.float32((hi - lo) / 255.0) if hi > lo else np.float32(0.0)
    if scale == 0:
        return np.zeros(x.shape, np.uint8), np.float32(0), np.uint8(0)
    zp = np.uint8(np.clip(np.round(np.float32(0 - lo) / scale), 0, 255))
    q = np.clip(np.round(x / scale) + zp, 0, 255).astype(np.uint8)
    return q, scale, zp


class Int8Linear(nn.Module):
    def __init__(self, lin):
        super().__init__()
        w = lin.weight.detach().numpy().T  # ONNX MatMul B = Wᵀ, [in, out]
        self.wq, self.ws = quantize_weight(w)
        self.bias = None if lin.bias is None else lin.bias.detach().numpy().astype(np.float32)

    def forward(self, x):
        xn = x.detach().numpy()
        q, s, zp = dynamic_quantize_linear(xn)
        acc = (q.astype(np.float64) - float(zp)) @ self.wq.astype(np.float64)  # exact: |sums| < 2^31 < 2^53
        y = acc.astype(np.int32).astype(np.float32) * np.float32(s * self.ws)
        if self.bias is not None:
            y = y + self.bias
        return torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32))


def swap_linears(module):
    for name, child in module.named_children():
        if isinstance(child, nn.Linear):
            setattr(module, name, Int8Linear(child))
        else:
            swap_linears(child)


def cosine(a, b):
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def main():
    torch.set_num_threads(1)
    cases = [(ref.VIT, ref.vit_state(0), ref.VIT_IMAGES, ["last_hidden_state", "pooler_output"], "pooler_output"),
             (ref.MOBILEVIT, ref.mobilevit_state(0), ref.MOBILEVIT_IMAGES, ["logits"], "logits")]
    for model, state, images, outputs, top_of in cases:
        m = ref.build_model(model, state)
        swap_linears(m)
        stats = {o: [] for o in outputs}
        for img in images:
            g, _ = ref.st_read(os.path.join(ref.GOLDEN, f"{model}_{ref.stem(img)}.safetensors"))
            out = ref.run(m, g["pixel_values"])
            out = out if isinstance(out, list) else [out]
            for o, y in zip(outputs, out):
                r = g[o]
                stats[o].append((cosine(y, r), float(np.abs(y - r).max()), float(np.abs(r).max()),
                                 ref.top5(y) == ref.top5(r) if o == top_of else None,
                                 ref.top5(y)[0] == ref.top5(r)[0] if o == top_of else None))
        for o in outputs:
            s = stats[o]
            line = (f"{model} {o} (simulated ORT int8 MatMul-only vs float32 goldens, {len(s)} images): cosine min "
                    f"{min(x[0] for x in s):.6f} mean {np.mean([x[0] for x in s]):.6f}, max |diff| "
                    f"{max(x[1] for x in s):.2e} (max |ref| {max(x[2] for x in s):.3f})")
            if o == top_of:
                line += f", top-5 identical {sum(x[3] for x in s)}/{len(s)}, top-1 {sum(x[4] for x in s)}/{len(s)}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
