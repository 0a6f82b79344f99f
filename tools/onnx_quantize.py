#!/usr/bin/python3
"""Dynamic int8 quantization of an ONNX model, rewritten the way ONNX Runtime's `quantize_dynamic` does it
(the `onnxruntime` Python package is not installable here; this needs only Debian's python3-onnx and numpy).

    /usr/bin/python3 tools/onnx_quantize.py IN.onnx OUT.onnx [--op-types MatMul] [--quiet]
    /usr/bin/python3 tools/onnx_quantize.py --dir DIR   # every DIR/<model>.onnx -> DIR/<model>.int8.onnx (defaults)
                                                        #                     and DIR/<model>.int8-matmul.onnx (--op-types MatMul)

What ORT does (onnxruntime/python/tools/quantization/: quantize.py `quantize_dynamic`, onnx_quantizer.py
`ONNXQuantizer`, operators/matmul.py `MatMulInteger`, operators/conv.py `ConvInteger`, quant_utils.py
`compute_scale_zp` / `quantize_nparray`, registry.py `IntegerOpsRegistry`), and which defaults this reproduces:
  - weight_type = QInt8 (quantize_dynamic's default since ORT 1.13; before it was QUInt8), activation type always
    QUInt8 ("dynamic activation only supports uint8");
  - per_channel = False: one scale per weight tensor; reduce_range = False: the full range;
  - WeightSymmetric defaults to True for QInt8: range [-absmax, absmax] with absmax = max(|min(W, 0)|, |max(W, 0)|),
    quantized to the symmetric int8 range [-127, 127]: scale = 2 absmax / 254 (computed in float64, stored as
    float32), zero point 0, q = round_half_even(W / scale) (float32 division), clipped;
  - MatMulConstBOnly = True (dynamic mode): only MatMuls whose B is an initializer are quantized (so attention's
    Q·Kᵀ and P·V stay float);
  - activations: opset >= 11, so one fused DynamicQuantizeLinear per float tensor (u8, per tensor, asymmetric:
    scale = (max(x, 0) - min(x, 0)) / 255, zero point = round(-min/scale)), shared by every quantized consumer of
    that tensor (ORT's quantized_value_map: Q, K and V share one);
  - MatMul -> DynamicQuantizeLinear(A) + MatMulInteger(A_q, W_q, A_zp, W_zp) -> Cast(float) -> Mul by
    (A_scale × W_scale); the exporter's bias Add stays where it was, in float;
  - Gemm: ORTs dynamic quantizer first rewrites Gemm (alpha = beta = 1, transA = 0) as MatMul (+ Add of C), with
    a transB weight transposed, and then quantizes that MatMul: done here the same way (the exporter emits Gemm for
    2-D linears, e.g. the classifier and ViT's pooler);
  - Conv -> DynamicQuantizeLinear(X) + ConvInteger(X_q, W_q, X_zp, W_zp) (same attributes) -> Cast -> Mul by the
    scales -> Add of the bias reshaped to [1, C, 1, 1]: what IntegerOpsRegistry maps Conv to, with the same
    per-tensor symmetric int8 weights. ORT 1.31.1's CPU provider runs ConvInteger with int8 weights (checked from the
    C# bench), but slowly (MobileViT-S at 1 thread: 3.4x slower than float32); the issue's peer is "each weight
    MatMul rewritten", so --op-types MatMul (ORT's op_types_to_quantize=["MatMul"], which still rewrites Gemm to
    MatMul first) leaves every Conv float, and --dir writes both variants;
  - Gather / Transpose / Attention / LSTM / EmbedLayerNormalization (also in the registry) do not occur with a
    quantizable weight in these exports: untouched.
No ORT code is copied; the arithmetic above is restated from those files.
"""
import argparse
import glob
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

QMIN, QMAX = -127, 127  # symmetric int8 range (ORT: ONNX_INT_TYPE_SYMMETRIC_RANGE[INT8])


def quantize_weight(w):
    """Per-tensor symmetric int8, as ORT's quantize_data(QInt8, symmetric=True, reduce_range=False)."""
    w = np.asarray(w, dtype=np.float32)
    rmin = min(float(w.min()), 0.0)
    rmax = max(float(w.max()), 0.0)
    absmax = max(abs(rmin), abs(rmax))
    scale64 = (2.0 * absmax) / float(QMAX - QMIN)
    if scale64 < np.finfo(np.float32).tiny:
        scale = np.float32(1.0)
    else:
        scale = np.float32(scale64)
    q = np.clip(np.round(w / scale), -128, 127).astype(np.int8)  # np.round: half to even, as ORT
    return q, scale


def _attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def quantize_model(model, conv=True, log=print):
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers[i] = consumers.get(i, 0) + 1

    def is_float_init(name):
        t = inits.get(name)
        return t is not None and t.data_type == TensorProto.FLOAT

    new_inits = []
    new_nodes = []
    act_q = {}   # float tensor -> (q, scale, zp): one DynamicQuantizeLinear per tensor
    w_q = {}     # weight initializer -> (q name, scale name, zp name)
    stats = {"MatMul": 0, "Gemm->MatMul": 0, "Conv": 0, "Conv kept float": 0, "DynamicQuantizeLinear": 0,
             "int8 weights": 0, "float weights": 0}
    drop = set()

    def quant_act(name, out):
        if name not in act_q:
            q, s, z = name + "_quantized", name + "_scale", name + "_zero_point"
            out.append(helper.make_node("DynamicQuantizeLinear", [name], [q, s, z], name + "_QuantizeLinear"))
            act_q[name] = (q, s, z)
            stats["DynamicQuantizeLinear"] += 1
        return act_q[name]

    def quant_w(name, arr=None):
        if name not in w_q:
            a = numpy_helper.to_array(inits[name]) if arr is None else arr
            q, scale = quantize_weight(a)
            qn, sn, zn = name + "_quantized", name + "_scale", name + "_zero_point"
            new_inits.append(numpy_helper.from_array(q, qn))
            new_inits.append(numpy_helper.from_array(np.array(scale, dtype=np.float32), sn))
            new_inits.append(numpy_helper.from_array(np.array(0, dtype=np.int8), zn))
            w_q[name] = (qn, sn, zn)
            stats["int8 weights"] += q.size
        return w_q[name]

    def integer_tail(kind, nname, int_out, a_scale, w_scale, y, out):
        """Cast the int32 result to float and multiply by a_scale × w_scale into y."""
        cast = int_out + "_cast_output"
        out.append(helper.make_node("Cast", [int_out], [cast], int_out + "_cast", to=TensorProto.FLOAT))
        sm = nname + "_scales_mul"
        out.append(helper.make_node("Mul", [a_scale, w_scale], [sm + ":0"], sm))
        out.append(helper.make_node("Mul", [cast, sm + ":0"], [y], nname + "_output_scale_mul"))

    for idx, n in enumerate(g.node):
        nname = n.name or f"{n.op_type}_{idx}"
        if n.op_type == "Gemm" and len(n.input) >= 2 and is_float_init(n.input[1]) \
                and _attr(n, "alpha", 1.0) == 1.0 and _attr(n, "beta", 1.0) == 1.0 and _attr(n, "transA", 0) == 0:
            b = numpy_helper.to_array(inits[n.input[1]])
            if _attr(n, "transB", 0):
                b = np.ascontiguousarray(b.T)
            wname = n.input[1] + ("_transposed" if _attr(n, "transB", 0) else "")
            a_q, a_s, a_z = quant_act(n.input[0], new_nodes)
            qn, sn, zn = quant_w(wname, b)
            consumers[n.input[1]] -= 1
            mm_y = n.output[0] + "_MatMul" if len(n.input) > 2 and n.input[2] else n.output[0]
            iout = mm_y + "_output_quantized"
            new_nodes.append(helper.make_node("MatMulInteger", [a_q, qn, a_z, zn], [iout], nname + "_MatMul_quant"))
            integer_tail("MatMul", nname + "_MatMul_quant", iout, a_s, sn, mm_y, new_nodes)
            if mm_y != n.output[0]:
                new_nodes.append(helper.make_node("Add", [mm_y, n.input[2]], [n.output[0]], nname + "_Add"))
            stats["Gemm->MatMul"] += 1
            continue
        if n.op_type == "MatMul" and is_float_init(n.input[1]) and len(inits[n.input[1]].dims) == 2:
            a_q, a_s, a_z = quant_act(n.input[0], new_nodes)
            qn, sn, zn = quant_w(n.input[1])
            consumers[n.input[1]] -= 1
            iout = n.output[0] + "_output_quantized"
            new_nodes.append(helper.make_node("MatMulInteger", [a_q, qn, a_z, zn], [iout], nname + "_quant"))
            integer_tail("MatMul", nname + "_quant", iout, a_s, sn, n.output[0], new_nodes)
            stats["MatMul"] += 1
            continue
        if n.op_type == "Conv" and is_float_init(n.input[1]):
            if not conv:
                stats["Conv kept float"] += 1
                stats["float weights"] += int(np.prod(inits[n.input[1]].dims))
                new_nodes.append(n)
                continue
            a_q, a_s, a_z = quant_act(n.input[0], new_nodes)
            qn, sn, zn = quant_w(n.input[1])
            consumers[n.input[1]] -= 1
            has_bias = len(n.input) > 2 and n.input[2] != ""
            y = n.output[0] + "quant_scaled_output" if has_bias else n.output[0]
            iout = n.output[0] + "_output_quantized"
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            new_nodes.append(helper.make_node("ConvInteger", [a_q, qn, a_z, zn], [iout], nname + "_quant", **attrs))
            integer_tail("Conv", nname + "_quant", iout, a_s, sn, y, new_nodes)
            if has_bias:
                rank = len(inits[n.input[1]].dims)
                shape = np.ones(rank, dtype=np.int64)
                shape[1] = -1
                sname = n.output[0] + "_bias_reshape_shape"
                new_inits.append(numpy_helper.from_array(shape, sname))
                r = n.output[0] + "_bias_reshape_output"
                new_nodes.append(helper.make_node("Reshape", [n.input[2], sname], [r], n.output[0] + "_bias_reshape"))
                new_nodes.append(helper.make_node("Add", [y, r], [n.output[0]], n.output[0] + "_bias_add"))
            stats["Conv"] += 1
            continue
        if n.op_type in ("MatMul", "Gemm") and len(n.input) > 1 and is_float_init(n.input[1]):
            stats["float weights"] += int(np.prod(inits[n.input[1]].dims))
        new_nodes.append(n)

    # Weights no longer read by any node go (the int8 copy replaces them).
    for name, count in consumers.items():
        if name in inits and count == 0:
            drop.add(name)
    kept = [t for t in g.initializer if t.name not in drop]
    del g.initializer[:]
    g.initializer.extend(kept + new_inits)
    del g.node[:]
    g.node.extend(new_nodes)
    model.producer_name = "aot-vit tools/onnx_quantize.py (ORT quantize_dynamic defaults)"
    return stats


def quantize_file(src, dst, conv=True, quiet=False):
    model = onnx.load(src)
    stats = quantize_model(model, conv=conv)
    onnx.checker.check_model(model)
    onnx.save(model, dst)
    if not quiet:
        print(f"{os.path.basename(dst)}: {stats['MatMul']} MatMul + {stats['Gemm->MatMul']} Gemm -> MatMulInteger, "
              f"{stats['Conv']} Conv -> ConvInteger ({stats['Conv kept float']} kept float), "
              f"{stats['DynamicQuantizeLinear']} DynamicQuantizeLinear; {stats['int8 weights'] / 1e6:.2f} M int8 weights, "
              f"{stats['float weights'] / 1e6:.2f} M float conv weights left; "
              f"{os.path.getsize(src) / 2**20:.1f} -> {os.path.getsize(dst) / 2**20:.1f} MiB")
    return stats


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", nargs="?")
    ap.add_argument("dst", nargs="?")
    ap.add_argument("--dir", help="quantize every DIR/<model>.onnx to DIR/<model>.int8.onnx and DIR/<model>.int8-matmul.onnx")
    ap.add_argument("--op-types", default="MatMul,Conv",
                    help="op types to quantize (ORT's op_types_to_quantize; default MatMul,Conv = its defaults for these graphs; Gemm counts as MatMul)")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    if a.dir:
        files = sorted(f for f in glob.glob(os.path.join(a.dir, "*.onnx")) if ".int8" not in os.path.basename(f))
        if not files:
            sys.exit(f"no .onnx files in {a.dir}")
        for f in files:
            quantize_file(f, f[:-len(".onnx")] + ".int8.onnx", True, a.quiet)
            quantize_file(f, f[:-len(".onnx")] + ".int8-matmul.onnx", False, a.quiet)
    elif a.src and a.dst:
        types = {t.strip() for t in a.op_types.split(",") if t.strip()}
        if not types <= {"MatMul", "Conv"}:
            ap.error("--op-types: MatMul and/or Conv")
        if "MatMul" not in types:
            ap.error("--op-types without MatMul is not supported")
        quantize_file(a.src, a.dst, "Conv" in types, a.quiet)
    else:
        ap.error("give IN.onnx OUT.onnx or --dir DIR")


if __name__ == "__main__":
    main()
