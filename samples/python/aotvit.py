"""aotvit.py: a ctypes wrapper of libaotvit.so (include/aotvit.h) in one file, standard library only.

    from aotvit import Model
    with Model("mobilevit-small") as m:                 # checkpoint=None -> synthetic weights (seed 0)
        logits, = m.run_image_file("cat.png")           # numpy arrays if numpy is importable, else lists
        for index, probability in m.top_k(logits, 5):
            print(m.labels[index], probability)

Outputs come back shaped per image ([50, 768] and [768] for ViT, [1000] for MobileViT; batches add a leading
dimension) as float32 numpy arrays, or as flat Python lists of floats when numpy is not installed.
Errors raise AotVitError(status, message). The library is found through $AOTVIT_LIBRARY, then next to this
file, then ../../artifacts/native/libaotvit.so. The C declarations come from the Python package's
python/aotvit/_native.py (standard library only), so this file needs the repository beside it.
A Model may be shared between Python threads (calls are serialised inside the library and ctypes releases
the GIL while they run); for parallel throughput use one Model per thread.
"""
import ctypes
import importlib.util
import os
from ctypes import POINTER, c_char_p, c_float, c_int, c_int32, c_size_t, c_uint8, c_void_p

try:
    import numpy as _np
except ImportError:  # the wrapper also works without numpy: results are lists
    _np = None
if os.environ.get("AOTVIT_NO_NUMPY"):  # force the list fallback (tools/native_check.sh tests both)
    _np = None

_HERE = os.path.dirname(os.path.abspath(__file__))


def _load_declarations():
    """The Python package's C ABI declarations (python/aotvit/_native.py: library loading, the ctypes signature of
    every function, the ABI version check; standard library only), loaded by path so that this one-file sample and the
    package share them."""
    path = os.path.join(_HERE, "..", "..", "python", "aotvit", "_native.py")
    spec = importlib.util.spec_from_file_location("_aotvit_native", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_native = _load_declarations()
ABI_VERSION = _native.ABI_VERSION

STATUS_NAMES = {
    0: "OK", 1: "INVALID_ARGUMENT", 2: "NULL_POINTER", 3: "BUFFER_TOO_SMALL", 4: "IO_ERROR", 5: "BAD_CHECKPOINT",
    6: "BAD_IMAGE", 7: "WRONG_MODEL_KIND", 8: "LIMIT_EXCEEDED", 9: "OUT_OF_MEMORY", 10: "INTERNAL_ERROR",
}


class AotVitError(Exception):
    """A call into libaotvit returned a status other than AOTVIT_OK."""

    def __init__(self, status, message):
        super().__init__(f"AOTVIT_{STATUS_NAMES.get(status, status)}: {message}")
        self.status = status
        self.message = message


def library():
    """libaotvit, loaded once (it cannot be unloaded) with its signatures declared. Without $AOTVIT_LIBRARY, the
    library next to this file or the repository's artifacts/native/libaotvit.so (tools/native_check.sh builds it)."""
    if not os.environ.get("AOTVIT_LIBRARY"):
        for path in (os.path.join(_HERE, "libaotvit.so"), os.path.join(_HERE, "..", "..", "artifacts", "native", "libaotvit.so")):
            if os.path.exists(path):
                os.environ["AOTVIT_LIBRARY"] = path
                break
    return _native.library()


def version():
    return library().aotvit_version().decode()


def catalog():
    """The compiled models: [(name, hub repo id or None, "classifier" | "feature-extractor")], sorted by name."""
    lib = library()
    models = []
    for i in range(lib.aotvit_catalog_size()):
        name, repo, kind = c_char_p(), c_char_p(), c_int()
        _check(lib.aotvit_catalog_entry(i, ctypes.byref(name), ctypes.byref(repo), ctypes.byref(kind)))
        models.append((name.value.decode(), repo.value.decode() if repo.value else None,
                       "classifier" if kind.value == 1 else "feature-extractor"))
    return models


def _check(status):
    if status != 0:
        # Read the message on the same thread, straight after the failing call (it is thread-local).
        raise AotVitError(status, _native.last_error())


class _Buffer:
    """A float32 buffer C can write into: a numpy array when available, else a ctypes array."""

    def __init__(self, count, shape):
        self.count, self.shape = count, shape
        if _np is not None:
            self.array = _np.empty(shape, dtype=_np.float32)
            self.pointer = self.array.ctypes.data_as(POINTER(c_float))
        else:
            self.array = (c_float * count)()
            self.pointer = ctypes.cast(self.array, POINTER(c_float))

    def value(self):
        return self.array if _np is not None else list(self.array)


def _floats_in(values, count, what):
    """A read-only float32 pointer over values (numpy array or any sequence), plus the object keeping it alive."""
    if _np is not None:
        array = _np.ascontiguousarray(values, dtype=_np.float32).reshape(-1)
        if array.size != count:
            raise ValueError(f"{what} has {array.size} floats, {count} needed")
        return array.ctypes.data_as(POINTER(c_float)), array
    flat = list(values)
    if len(flat) != count:
        raise ValueError(f"{what} has {len(flat)} floats, {count} needed")
    array = (c_float * count)(*flat)
    return ctypes.cast(array, POINTER(c_float)), array


def _bytes_in(data):
    data = bytes(data)
    array = (c_uint8 * len(data)).from_buffer_copy(data) if data else (c_uint8 * 1)()
    return ctypes.cast(array, POINTER(c_uint8)), len(data), array


class Model:
    """One aotvit_model handle. Close it (or use `with`) to free its memory promptly."""

    def __init__(self, name, checkpoint=None, threads=0, exif_transpose=True):
        """name: a compiled model (folder name or hub repo id); checkpoint: a file, a folder or a hub repo id in the
        local Hugging Face cache (None: synthetic weights); exif_transpose: orient image files by their EXIF tag, as
        transformers' load_image does (False: the stored pixels)."""
        lib = library()
        handle = c_void_p()
        _check(lib.aotvit_model_open(name.encode(), checkpoint.encode() if checkpoint else None, threads, ctypes.byref(handle)))
        self._handle = handle
        try:
            if not exif_transpose:
                _check(lib.aotvit_model_set_exif_transpose(handle, 0))
            self._describe(lib)
        except Exception:
            self.close()
            raise

    def _describe(self, lib):
        h = self._handle
        name, kind = c_char_p(), c_int()
        _check(lib.aotvit_model_name(h, ctypes.byref(name)))
        _check(lib.aotvit_model_kind(h, ctypes.byref(kind)))
        self.name, self.is_classifier = name.value.decode(), kind.value == 1
        c, hh, w = c_int(), c_int(), c_int()
        _check(lib.aotvit_model_input_shape(h, ctypes.byref(c), ctypes.byref(hh), ctypes.byref(w)))
        self.input_shape = (c.value, hh.value, w.value)
        self.input_floats = c.value * hh.value * w.value
        count = c_int()
        _check(lib.aotvit_model_output_count(h, ctypes.byref(count)))
        self.outputs = []  # [(name, shape per image, floats per image)]
        for i in range(count.value):
            out_name, shape, rank, floats = c_char_p(), (c_int * 4)(), c_int(), c_size_t()
            _check(lib.aotvit_model_output_info(h, i, ctypes.byref(out_name), shape, ctypes.byref(rank), ctypes.byref(floats)))
            self.outputs.append((out_name.value.decode(), tuple(shape[:rank.value]), floats.value))
        labels = c_int()
        _check(lib.aotvit_model_label_count(h, ctypes.byref(labels)))
        self.labels = []
        for i in range(labels.value):
            label = c_char_p()
            _check(lib.aotvit_model_label(h, i, ctypes.byref(label)))
            self.labels.append(label.value.decode())

    # -- lifetime --

    def close(self):
        if getattr(self, "_handle", None):
            library().aotvit_model_destroy(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    # -- inference: each returns a tuple with one array per output --

    def _outputs(self, batch):
        shape = (lambda s: s) if batch is None else (lambda s: (batch,) + s)
        n = 1 if batch is None else batch
        return [_Buffer(n * floats, shape(per_image)) for (_, per_image, floats) in self.outputs]

    def _run(self, call, batch=None):
        buffers = self._outputs(batch)
        out1 = (buffers[1].pointer, buffers[1].count) if len(buffers) > 1 else (None, 0)
        _check(call(buffers[0].pointer, buffers[0].count, *out1))
        return tuple(b.value() for b in buffers)

    def run_image_file(self, path):
        return self._run(lambda o0, n0, o1, n1: library().aotvit_run_image_file(self._handle, os.fsencode(path), o0, n0, o1, n1))

    def run_image_bytes(self, data):
        pointer, size, keep = _bytes_in(data)
        return self._run(lambda o0, n0, o1, n1: library().aotvit_run_image_bytes(self._handle, pointer, size, o0, n0, o1, n1))

    def run_rgb8(self, rgb, width, height):
        """rgb: bytes-like [height, width, 3] RGB8 (or a uint8 numpy array of that shape)."""
        pointer, size, keep = _bytes_in(rgb)
        return self._run(lambda o0, n0, o1, n1: library().aotvit_run_rgb8(self._handle, pointer, size, width, height, o0, n0, o1, n1))

    def preprocess_image_file(self, path):
        """pixel_values [C, H, W] for one image (numpy array or list)."""
        buffer = _Buffer(self.input_floats, self.input_shape)
        _check(library().aotvit_preprocess_image_file(self._handle, os.fsencode(path), buffer.pointer, buffer.count))
        return buffer.value()

    def run_pixels(self, pixel_values, batch):
        """pixel_values: [batch, C, H, W] float32 (any nesting for numpy; a flat sequence without numpy)."""
        pointer, keep = _floats_in(pixel_values, batch * self.input_floats, "pixel_values")
        return self._run(lambda o0, n0, o1, n1: library().aotvit_run_pixels(self._handle, batch, pointer, batch * self.input_floats, o0, n0, o1, n1),
                         batch=batch)

    def top_k(self, logits, k=5):
        """[(class index, probability)] best first (classifiers only)."""
        flat = logits.reshape(-1) if hasattr(logits, "reshape") else list(logits)
        classes = len(flat)
        pointer, keep = _floats_in(flat, classes, "logits")
        indices, probabilities = (c_int32 * max(k, 1))(), (c_float * max(k, 1))()
        _check(library().aotvit_classify_top_k(self._handle, pointer, classes, k, indices, k,
                                               ctypes.cast(probabilities, POINTER(c_float)), k))
        return [(indices[i], probabilities[i]) for i in range(k)]
