#!/usr/bin/python3
"""Small torch.save fixtures for the pytorch_model.bin reader (tests/AotVit.Tests/data/torch/).

Run with Debian's interpreter (torch 1.13):

    /usr/bin/python3 tools/torch_fixtures.py          # (re)writes tests/AotVit.Tests/data/torch/

Good files are written by torch.save itself: tiny state dicts with the real tensor names of ViT and MobileViT
(a subset, shapes cut to at most 3 per dimension), pickle protocols 2 and 4, F32 / F16 / BF16, a module state dict
with its `_metadata` (the BUILD opcode), tensors that are views of one shared storage, and a Parameter. Each
`NAME.bin` has a companion `NAME.expected.safetensors` holding the same tensors converted to float32 by torch
(`t.float()`; I64 tensors as they are), so the reader's values can be compared bit for bit.

Hostile files are pickles written by Python's own pickler from objects whose __reduce__ names a forbidden callable
(nothing is ever unpickled here), wrapped in a zip laid out as torch lays it out. A pickle that ran would create
/tmp/aotvit-torch-fixture-pwned-<name>; the tests check that the file does not exist. Every file is the same bytes on
every run except hostile_legacy.bin and hostile_torchscript.bin (torch puts object ids and random ids in those).
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import numpy as np
import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "tests", "AotVit.Tests", "data", "torch")
SPEC = os.path.join(REPO, "tests", "AotVit.Tests", "data", "spec")
PWNED = "/tmp/aotvit-torch-fixture-pwned-"


def spec(model):
    rows = []
    with open(os.path.join(SPEC, f"tensors_{model}.tsv")) as f:
        for line in f:
            name, shape, dtype = line.rstrip("\n").split("\t")
            rows.append((name, json.loads(shape), dtype))
    return rows


def tiny_state(model, keep, seed):
    """The tensors of `model` whose names contain one of `keep`, shapes cut to <= 3 per dimension."""
    g = torch.Generator().manual_seed(seed)
    sd = collections.OrderedDict()
    for name, shape, dtype in spec(model):
        if not any(k in name for k in keep):
            continue
        small = [min(d, 3) for d in shape]
        if dtype == "I64":
            sd[name] = torch.tensor(7, dtype=torch.int64)
        else:
            sd[name] = torch.randn(small, generator=g, dtype=torch.float32)
    return sd


VIT_KEEP = ["embeddings.", "encoder.layer.0.", "layernorm.", "pooler."]
MOBILEVIT_KEEP = ["conv_stem.", "encoder.layer.0.layer.0.", "encoder.layer.2.transformer.layer.0.attention", "classifier."]


def st_write(path, tensors):
    """safetensors in plain Python: tensors is a list of (name, torch tensor)."""
    names = {torch.float32: "F32", torch.int64: "I64"}
    header, blobs, off = {}, [], 0
    for name, t in tensors:
        b = t.contiguous().numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def save_good(name, sd, protocol=2, expected=None):
    path = os.path.join(OUT, name + ".bin")
    torch.save(sd, path, pickle_protocol=protocol)
    expected = sd if expected is None else expected
    st_write(os.path.join(OUT, name + ".expected.safetensors"),
             [(k, v.detach().float() if v.is_floating_point() else v) for k, v in expected.items()])
    back = torch.load(path)
    assert list(back) == list(expected) and all(torch.equal(back[k], expected[k]) for k in expected), name
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def with_metadata(sd, model_prefix):
    """A state dict as nn.Module.state_dict() returns it: an OrderedDict carrying `_metadata` (saved by BUILD)."""
    out = collections.OrderedDict(sd)
    meta = collections.OrderedDict()
    meta[""] = {"version": 1}
    for k in sd:
        meta[k.rsplit(".", 1)[0]] = {"version": 2 if "normalization" in k else 1}
    out._metadata = meta
    return out


def shared_storage(sd):
    """Every float tensor becomes a view of one flat storage (at increasing offsets), as slices of one buffer are."""
    floats = [(k, v) for k, v in sd.items() if v.is_floating_point()]
    dtype = floats[0][1].dtype
    flat = torch.cat([torch.zeros(3, dtype=dtype)] + [v.reshape(-1) for _, v in floats] + [torch.zeros(5, dtype=dtype)])
    out, at = collections.OrderedDict(), 3
    for k, v in sd.items():
        if v.is_floating_point():
            n = v.numel()
            out[k] = flat[at:at + n].view(v.shape)
            at += n
        else:
            out[k] = v
    # One more name for the same bytes as the first tensor, and a Parameter (saved with _rebuild_parameter).
    first = next(iter(floats))[0]
    out["alias." + first] = out[first]
    out["parameter." + first] = torch.nn.Parameter(out[first].clone())
    return out


# ---- hand-built archives (hostile files and the torch 2.x layout) ----

class Storage:
    """Stands for a storage; the pickler writes its persistent id."""

    def __init__(self, key, storage_class, numel):
        self.pid = ("storage", storage_class, key, "cpu", numel)


class Call:
    """Pickles as `function(*args)` (GLOBAL + REDUCE) without calling anything."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return (self.function, self.args)


class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, Storage) else None


def dumps(obj, protocol=2):
    f = io.BytesIO()
    Pickler(f, protocol=protocol).dump(obj)
    return f.getvalue()


def tensor(key, shape, offset=0, numel=None, storage_class=torch.FloatStorage, stride=None, extra=()):
    n = int(np.prod(shape)) if numel is None else numel
    if stride is None:
        stride, s = [], 1
        for d in reversed(shape):
            stride.insert(0, s)
            s *= d
    return Call(torch._utils._rebuild_tensor_v2, Storage(key, storage_class, n), offset, tuple(shape), tuple(stride),
                False, Call(collections.OrderedDict), *extra)


def state(*items):
    d = collections.OrderedDict()
    for k, v in items:
        d[k] = v
    return d


def write_zip(name, pickle_bytes, storages, folder="archive", extra=(), compress=zipfile.ZIP_STORED):
    path = os.path.join(OUT, name + ".bin")
    def put(z, name, data):   # a fixed date, so that the fixtures are the same bytes on every run
        z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, compress_type=compress)

    with zipfile.ZipFile(path, "w", compression=compress) as z:
        put(z, f"{folder}/data.pkl", pickle_bytes)
        for entry, data in extra:
            put(z, f"{folder}/{entry}", data)
        for key, data in storages.items():
            put(z, f"{folder}/data/{key}", data)
        put(z, f"{folder}/version", "3\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")
    return path


def f32(*values):
    return struct.pack(f"<{len(values)}f", *values)


def hostile():
    six = {"0": f32(1, 2, 3, 4, 5, 6)}
    # Code execution attempts: the reader must refuse the global before anything is called.
    write_zip("hostile_os_system", dumps(Call(os.system, f"touch {PWNED}os_system")), six)
    write_zip("hostile_builtins_eval", dumps(Call(eval, f"open('{PWNED}builtins_eval', 'w')"), protocol=4), six)
    write_zip("hostile_builtin_eval_p2", dumps(Call(eval, f"open('{PWNED}builtin_eval_p2', 'w')")), six)
    write_zip("hostile_nested_call", dumps(state(("a", tensor("0", [2, 3])),
                                                 ("b", Call(os.system, f"touch {PWNED}nested_call")))), six)
    # Broken references between the pickle and the zip.
    write_zip("hostile_missing_storage", dumps(state(("a", tensor("0", [2, 3])), ("b", tensor("1", [2])))), six)
    write_zip("hostile_short_storage", dumps(state(("a", tensor("0", [3, 3], numel=6)))), six)
    write_zip("hostile_storage_entry_short", dumps(state(("a", tensor("0", [3, 3])))), six)
    write_zip("hostile_view_past_storage", dumps(state(("a", tensor("0", [2, 2], offset=3, numel=6)))), six)
    write_zip("hostile_transposed", dumps(state(("a", tensor("0", [3, 2], stride=[1, 3])))), six)
    # Bombs: sizes that overflow or would allocate exabytes; nesting far past any limit.
    write_zip("hostile_bomb_sizes", dumps(state(("a", tensor("0", [1 << 31, 1 << 31, 1 << 31], numel=1 << 62)))), six)
    deep = []
    for _ in range(3000):
        deep = [deep]
    sys.setrecursionlimit(20000)
    write_zip("hostile_deep_marks", b"\x80\x02" + b"(" * 100000 + b".", six)
    write_zip("hostile_deep_nesting", dumps(state(("a", tensor("0", [2, 3])), ("b", deep))), six)
    # Formats that are not a plain little-endian stored torch zip.
    write_zip("hostile_big_endian", dumps(state(("a", tensor("0", [2, 3])))), six, extra=[("byteorder", "big")])
    write_zip("hostile_deflated", dumps(state(("a", tensor("0", [2, 3])))), six, compress=zipfile.ZIP_DEFLATED)
    # A protocol-4 memo bomb is covered by the item limit; a truncated archive and the legacy format come from torch.
    good = os.path.join(OUT, "vit_p2_f32.bin")
    data = open(good, "rb").read()
    with open(os.path.join(OUT, "hostile_truncated.bin"), "wb") as f:
        f.write(data[:len(data) // 2])
    torch.save(state(("a", torch.ones(2, 3))), os.path.join(OUT, "hostile_legacy.bin"), _use_new_zipfile_serialization=False)
    script = torch.jit.script(torch.nn.Linear(2, 2))
    torch.jit.save(script, os.path.join(OUT, "hostile_torchscript.bin"))


def torch2_layout():
    """The layout torch 2.x writes (byteorder and .data/ entries, a 7th _rebuild_tensor_v2 argument), built by hand
    because only torch 1.13 is installed here; the values follow the same rules as the torch.save fixtures."""
    a = torch.arange(6, dtype=torch.float32).reshape(2, 3) / 7
    b = torch.tensor([1.5, -2.25, 3.0], dtype=torch.float16)
    pk = dumps(state(("a", tensor("0", [2, 3], extra=({},))),
                     ("b", tensor("1", [3], storage_class=torch.HalfStorage, extra=(None,)))), protocol=2)
    write_zip("torch2_layout", pk, {"0": a.numpy().tobytes(), "1": b.numpy().tobytes()}, folder="torch2_layout",
              extra=[("byteorder", "little"), (".data/version", "3\n"), (".data/serialization_id", "1234567890")])
    st_write(os.path.join(OUT, "torch2_layout.expected.safetensors"), [("a", a), ("b", b.float())])


def sharded(sd):
    """Two torch.save shards and the index transformers' save_pretrained writes above its shard size."""
    folder = os.path.join(OUT, "vit_sharded")
    os.makedirs(folder, exist_ok=True)
    names = list(sd)
    half = len(names) // 2
    weight_map = {}
    for i, part in enumerate((names[:half], names[half:])):
        shard = f"pytorch_model-0000{i + 1}-of-00002.bin"
        torch.save(collections.OrderedDict((k, sd[k]) for k in part), os.path.join(folder, shard))
        weight_map.update({k: shard for k in part})
    total = sum(v.numel() * v.element_size() for v in sd.values())
    with open(os.path.join(folder, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    print(f"wrote {folder}")


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        path = os.path.join(OUT, f)
        if os.path.isdir(path):
            for g in os.listdir(path):
                os.remove(os.path.join(path, g))
            os.rmdir(path)
        else:
            os.remove(path)
    vit = tiny_state("vit", VIT_KEEP, seed=1)
    mobilevit = tiny_state("mobilevit", MOBILEVIT_KEEP, seed=2)
    save_good("vit_p2_f32", vit, protocol=2)
    save_good("vit_p4_f16", collections.OrderedDict((k, v.half()) for k, v in vit.items()), protocol=4)
    save_good("mobilevit_p2_f32_module", with_metadata(mobilevit, "mobilevit"), protocol=2)
    save_good("mobilevit_p4_bf16", collections.OrderedDict((k, v.bfloat16() if v.is_floating_point() else v)
                                                           for k, v in mobilevit.items()), protocol=4)
    shared = shared_storage(vit)
    save_good("vit_shared_storage", shared, protocol=2)
    save_good("vit_shared_storage_f16_p4", collections.OrderedDict(
        (k, v) for k, v in shared_storage(collections.OrderedDict((k, v.half()) for k, v in vit.items())).items()
        if not k.startswith("parameter.")), protocol=4)
    torch2_layout()
    sharded(vit)
    hostile()
    for f in os.listdir("/tmp"):
        assert not f.startswith(os.path.basename(PWNED)), "a fixture pickle ran"


if __name__ == "__main__":
    main()
