"""aotvit: Hugging Face vision transformers compiled ahead of time (NativeAOT), from Python.

    import aotvit
    with aotvit.Model("mobilevit-small") as model:          # weights=None: the synthetic checkpoint (seed 0)
        out = model(["cat.jpg", open("dog.png", "rb").read(), PIL.Image.open("bird.png")])
        out.logits.shape                                    # (3, 1000), as transformers gives it
        for predictions in model.top_k(out, k=5):           # one list per image, best first
            print([(p.label, round(p.score, 3)) for p in predictions])

    with aotvit.Model("google/vit-base-patch32-224-in21k", weights="google/vit-base-patch32-224-in21k") as vit:
        out = vit(np.asarray(image_rgb_uint8))              # H x W x 3 uint8
        out.last_hidden_state.shape, out.pooler_output.shape  # (1, 50, 768), (1, 768)

int8 (``precision="int8"``): the nn.Linear layers run with int8 weights (per output channel) and 7-bit activations;
on load the calibration images run in float32 and int8 and ``model.quantization_report`` says how far apart they are.
``aotvit.quantize(model, src, dst)`` writes an int8 checkpoint that opens without that calibration run::

    with aotvit.Model("mobilevit-small", "model.safetensors", precision="int8",
                      calibration_images=["cat.jpg", "dog.png"]) as model:
        print(model.precision, model.quantization_report)   # "int8", "int8 vs float32 on 2 calibration images ..."

Models are the ones compiled into the library (:func:`catalog`), opened by folder name or hub repo id. Weights: a
checkpoint file (safetensors or pytorch_model.bin), a folder holding one, or a hub repo id found offline in the local
Hugging Face cache; never downloaded. Every output is a float32 NumPy array with a leading batch dimension.

Threading: a :class:`Model` may be shared by Python threads. The library serialises inference on one handle (one
activation arena per model) while decoding and preprocessing run outside its lock, and ctypes releases the GIL for
the duration of each call. For parallel throughput open one Model per thread (``threads=1`` each) or use
:mod:`aotvit.dask` across processes and machines.

Processes: a process forked (``os.fork``, multiprocessing's default ``fork`` start method on Linux) from one that has
already called the library cannot use it, since the library's threads do not survive ``fork``: calls there raise
:class:`AotVitError` (``INVALID_ARGUMENT``) instead of hanging. Use the ``spawn`` or ``forkserver`` start method, or
open models only in the children.
"""
from __future__ import annotations

import ctypes
import enum
import os
import sys
from ctypes import POINTER, byref, c_char_p, c_float, c_int, c_int32, c_size_t, c_uint8, c_void_p
from typing import Any, Dict, Iterator, List, Mapping, NamedTuple, Optional, Tuple, Union, overload

import numpy as np

from . import _native

__version__ = "0.1.0"

__all__ = [
    "AotVitError", "AotVitInternalError", "BaseModelOutputWithPooling", "ImageClassifierOutput", "ImageInput", "Model", "ModelInfo",
    "ModelOutput", "PRECISIONS", "Prediction", "Status", "catalog", "library_path", "library_version", "quantize",
]

PathLike = Union[str, "os.PathLike[str]"]
ImageInput = Any
"""One image: a path (str or os.PathLike), encoded bytes (bytes, bytearray, memoryview), a ``PIL.Image.Image`` or a
NumPy uint8 array of shape (height, width, 3), C-contiguous. A list or tuple of them is one batch; so is a uint8
array of shape (batch, height, width, 3)."""


class Status(enum.IntEnum):
    """aotvit_status, the result of every fallible C call (include/aotvit.h)."""
    OK = 0
    INVALID_ARGUMENT = 1
    NULL_POINTER = 2
    BUFFER_TOO_SMALL = 3
    IO_ERROR = 4
    BAD_CHECKPOINT = 5
    BAD_IMAGE = 6
    WRONG_MODEL_KIND = 7
    LIMIT_EXCEEDED = 8
    OUT_OF_MEMORY = 9
    INTERNAL_ERROR = 10


# The statuses that describe what the caller gave (a name, a value, a file, an image, a checkpoint, a size); every
# other failure status is the library's (or this package's) fault, raised as AotVitInternalError.
_INPUT_STATUSES = frozenset({
    Status.INVALID_ARGUMENT, Status.IO_ERROR, Status.BAD_CHECKPOINT, Status.BAD_IMAGE, Status.WRONG_MODEL_KIND,
    Status.LIMIT_EXCEEDED,
})


class AotVitError(Exception):
    """A call into libaotvit failed. ``status`` is the :class:`Status`, ``message`` the library's explanation.
    ``is_input_error`` is True when the input is at fault (unknown model, missing file, bad image or checkpoint, a size
    limit) and False for :class:`AotVitInternalError` and OUT_OF_MEMORY."""

    def __init__(self, status: int, message: str) -> None:
        try:
            self.status: Union[Status, int] = Status(status)
            label = self.status.name
        except ValueError:  # a newer library with a status this package does not know
            self.status, label = status, str(status)
        self.message = message
        self.is_input_error = self.status in _INPUT_STATUSES
        super().__init__(f"AOTVIT_{label}: {message}")


class AotVitInternalError(AotVitError):
    """A failure that is not the input's fault: INTERNAL_ERROR (a bug in libaotvit), or NULL_POINTER /
    BUFFER_TOO_SMALL (a bug in this package, which passes every pointer and length). Worth a bug report."""


def _error(status: int, message: str) -> AotVitError:
    """The exception for a failed call: AotVitInternalError for the statuses that are bugs, else AotVitError."""
    internal = status in (Status.INTERNAL_ERROR, Status.NULL_POINTER, Status.BUFFER_TOO_SMALL)
    return (AotVitInternalError if internal else AotVitError)(status, message)


def _check(status: int) -> None:
    if status != Status.OK:
        raise _error(status, _native.last_error())


PRECISIONS = ("float32", "int8")
"""The values of ``precision`` (aotvit_precision: AOTVIT_PRECISION_FLOAT32, AOTVIT_PRECISION_INT8)."""

MAX_CALIBRATION_IMAGES = 64
"""At most this many calibration images (the library's limit)."""


def _open_options(precision: str, calibration_images: Any, threads: int, quantizing: bool = False
                  ) -> Tuple["_native.OpenOptions", Any]:
    """aotvit_open_options for the arguments, checked here first (TypeError / ValueError, as for other arguments),
    and the ctypes array of paths that must stay alive while the call runs."""
    if not isinstance(precision, str):
        raise TypeError(f"precision must be a str, one of {PRECISIONS}, not {type(precision).__name__}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 0:
        raise ValueError(f"threads must be an int >= 0 (0: default), not {threads!r}")
    paths: List[bytes] = []
    if calibration_images is not None:
        if isinstance(calibration_images, (str, bytes, os.PathLike)):
            raise TypeError("calibration_images must be a list of image paths, not a single path "
                            f"(pass [{calibration_images!r}])")
        try:
            items = list(calibration_images)
        except TypeError:
            raise TypeError(f"calibration_images must be a list of image paths, not {type(calibration_images).__name__}"
                            ) from None
        for i, item in enumerate(items):
            if not isinstance(item, (str, os.PathLike)):
                raise TypeError(f"calibration_images[{i}] must be a path (str or os.PathLike), not {type(item).__name__}")
            path = os.fsencode(item)
            if not path:
                raise ValueError(f"calibration_images[{i}] is an empty path")
            if b"\0" in path:
                raise ValueError(f"calibration_images[{i}] contains a NUL character")
            paths.append(path)
        if len(paths) > MAX_CALIBRATION_IMAGES:
            raise ValueError(f"calibration_images lists {len(paths)} images; at most {MAX_CALIBRATION_IMAGES} are used")
        if paths and precision != "int8" and not quantizing:
            raise ValueError("calibration_images are used only with precision='int8'")
    array = (c_char_p * max(len(paths), 1))(*paths)
    options = _native.OpenOptions(ctypes.sizeof(_native.OpenOptions), threads,
                                  _native.PRECISION_INT8 if precision == "int8" else _native.PRECISION_FLOAT32,
                                  ctypes.cast(array, POINTER(c_char_p)) if paths else None, len(paths))
    return options, array


def quantize(model: str, src: PathLike, dst: PathLike, calibration_images: Optional[Any] = None, *,
             threads: int = 0) -> str:
    """Writes an int8 checkpoint of ``model`` (``aotvit quantize``; aotvit_quantize in the C ABI) and returns the
    deviation from float32 measured on the calibration images, the report the file also stores.

    Args:
        model: a compiled model's name or hub repo id, as for :class:`Model`.
        src: the float checkpoint: a file, a folder holding one, or a hub repo id in the local cache.
        dst: the safetensors file to write (replaced if it exists; written to ``dst + ".partial"`` and renamed).
        calibration_images: image paths to measure the deviation on (at most 64); None: 4 built-in synthetic images.
        threads: worker threads, 0: default.

    Open the result with ``Model(model, dst, precision="int8")``: it loads without a calibration run and its
    :attr:`Model.quantization_report` is the one returned here (saying it was measured when the file was written).

    Raises:
        TypeError, ValueError: arguments of the wrong type or value (before anything runs).
        AotVitError: INVALID_ARGUMENT (unknown model, ``src`` already int8, ``dst`` a folder), IO_ERROR (``src`` or a
            calibration image not found, ``dst``'s folder missing), BAD_CHECKPOINT, BAD_IMAGE.
    """
    if not isinstance(model, str):
        raise TypeError(f"model must be a str (a compiled model name or repo id), not {type(model).__name__}")
    encoded = []
    for what, value in (("src", src), ("dst", dst)):
        if not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"{what} must be a path (str or os.PathLike), not {type(value).__name__}")
        path = os.fsencode(value)
        if not path or b"\0" in path:
            raise ValueError(f"{what} must be a non-empty path without NUL characters, not {value!r}")
        encoded.append(path)
    options, keep = _open_options("int8", calibration_images, threads, quantizing=True)
    report = c_char_p()
    lib = _native.library()
    status = lib.aotvit_quantize(model.encode("utf-8"), encoded[0], encoded[1], byref(options), byref(report))
    del keep
    _check(status)
    return (report.value or b"").decode("utf-8", "replace")


def library_path() -> str:
    """Path of the libaotvit.so in use (the AVX-512 or AVX2 build, chosen from the CPU at first use)."""
    return str(_native.loaded_path())


def library_version() -> str:
    """The library's version and ISA baseline, e.g. ``"0.1.0+x86-64-v4"``."""
    return _native.library().aotvit_version().decode()


class ModelInfo(NamedTuple):
    """A model compiled into the library."""
    name: str
    """Folder name under src/Graphs, e.g. ``"mobilevit-small"``."""
    repo_id: Optional[str]
    """Hugging Face hub repo id, e.g. ``"apple/mobilevit-small"`` (None when unknown)."""
    task: str
    """``"image-classification"`` or ``"feature-extraction"`` (the transformers pipeline task names)."""


_TASKS = {0: "feature-extraction", 1: "image-classification"}


def catalog() -> List[ModelInfo]:
    """The models this library was built with, sorted by name."""
    lib = _native.library()
    models = []
    for i in range(lib.aotvit_catalog_size()):
        name, repo, kind = c_char_p(), c_char_p(), c_int()
        _check(lib.aotvit_catalog_entry(i, byref(name), byref(repo), byref(kind)))
        assert name.value is not None
        models.append(ModelInfo(name.value.decode(), repo.value.decode() if repo.value else None,
                                _TASKS.get(kind.value, str(kind.value))))
    return models


class Prediction(NamedTuple):
    """One class of a top-k result."""
    label: str
    score: float
    """Softmax probability (computed in double precision by the library, returned as float32)."""
    index: int


class ModelOutput(Mapping[str, np.ndarray]):
    """Outputs by name, as transformers' ModelOutput: ``out.logits``, ``out["logits"]``, ``out[0]``,
    ``out.to_tuple()``. Every value is a float32 array whose first dimension is the batch."""

    def __init__(self, values: Dict[str, np.ndarray]) -> None:
        self._values = dict(values)

    def __getitem__(self, key: Union[str, int]) -> np.ndarray:  # type: ignore[override]
        if isinstance(key, int):
            return self.to_tuple()[key]
        return self._values[key]

    def __getattr__(self, name: str) -> np.ndarray:
        values = self.__dict__.get("_values", {})
        if name in values:
            return values[name]
        raise AttributeError(f"{type(self).__name__} has no output {name!r}; it has {list(values)}")

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def to_tuple(self) -> Tuple[np.ndarray, ...]:
        """The outputs in the model's order."""
        return tuple(self._values.values())

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}={tuple(v.shape)}" for k, v in self._values.items())
        return f"{type(self).__name__}({shapes})"


class ImageClassifierOutput(ModelOutput):
    """Output of an image classifier (transformers' ImageClassifierOutput)."""

    @property
    def logits(self) -> np.ndarray:
        """[batch, classes] float32, before softmax."""
        return self._values["logits"]


class BaseModelOutputWithPooling(ModelOutput):
    """Output of a feature extractor (transformers' BaseModelOutputWithPooling)."""

    @property
    def last_hidden_state(self) -> np.ndarray:
        """[batch, tokens, hidden] float32 (ViT-B/32: [batch, 50, 768])."""
        return self._values["last_hidden_state"]

    @property
    def pooler_output(self) -> Optional[np.ndarray]:
        """[batch, hidden] float32, or None for a model without a pooler (as transformers gives it)."""
        return self._values.get("pooler_output")


def _float_ptr(array: np.ndarray) -> "ctypes._Pointer[c_float]":
    return array.ctypes.data_as(POINTER(c_float))


def _u8_ptr(array: np.ndarray) -> "ctypes._Pointer[c_uint8]":
    return array.ctypes.data_as(POINTER(c_uint8))


def _pil_image_type() -> Optional[type]:
    # PIL is optional: only look for it if the caller has imported it (a PIL image cannot exist otherwise).
    module = sys.modules.get("PIL.Image")
    return getattr(module, "Image", None) if module is not None else None


def _check_rgb8(array: np.ndarray, where: str) -> np.ndarray:
    """The checks for a raw-pixel input: uint8, (height, width, 3), C-contiguous, not empty."""
    if array.dtype != np.uint8:
        raise TypeError(f"{where}: pixel array has dtype {array.dtype}; aotvit needs uint8 RGB values 0-255 "
                        "(e.g. convert float images in [0, 1] with (a * 255).round().astype(np.uint8))")
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"{where}: pixel array has shape {array.shape}; aotvit needs (height, width, 3) RGB "
                         "(greyscale: np.stack([a] * 3, axis=-1); RGBA: a[..., :3]; CHW: a.transpose(1, 2, 0))")
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"{where}: pixel array is empty (shape {array.shape})")
    if not array.flags.c_contiguous:
        raise ValueError(f"{where}: pixel array is not C-contiguous (a view with strides {array.strides}); "
                         "pass np.ascontiguousarray(a)")
    return array


class _Encoded(NamedTuple):
    """An input the library decodes itself: a file path (bytes, fs-encoded) or encoded image bytes."""
    path: Optional[bytes]
    data: Optional[np.ndarray]  # uint8, 1-D


def _classify(image: Any, where: str) -> Union[_Encoded, np.ndarray]:
    """One input as an encoded image or a checked (height, width, 3) uint8 array."""
    if isinstance(image, (str, os.PathLike)):
        path = os.fsencode(image)
        if b"\0" in path:
            raise ValueError(f"{where}: path contains a NUL character")
        return _Encoded(path, None)
    if isinstance(image, (bytes, bytearray, memoryview)):
        data = np.frombuffer(image, dtype=np.uint8)
        if data.size == 0:
            raise ValueError(f"{where}: empty bytes are not an image")
        return _Encoded(None, data)
    if isinstance(image, np.ndarray):
        return _check_rgb8(image, where)
    pil = _pil_image_type()
    if pil is not None and isinstance(image, pil):
        # As transformers' load_image: the decoded pixels converted to RGB (palette, grey, alpha dropped). No EXIF
        # rotation here: an Image object is taken as given (apply PIL.ImageOps.exif_transpose first if wanted).
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
    raise TypeError(f"{where}: unsupported input type {type(image).__name__}; aotvit takes a path, bytes, a "
                    "PIL.Image.Image, a uint8 NumPy array (height, width, 3), or a list of these")


def _as_batch(images: Any) -> List[Union[_Encoded, np.ndarray]]:
    if isinstance(images, (list, tuple)):
        if not images:
            raise ValueError("empty batch: pass at least one image")
        return [_classify(image, f"image {i}") for i, image in enumerate(images)]
    if isinstance(images, np.ndarray) and images.ndim == 4:
        return [_classify(images[i], f"image {i}") for i in range(images.shape[0])]
    return [_classify(images, "image")]


class Model:
    """A compiled model with its weights: one aotvit_model handle.

    Call it on images to get a :class:`ModelOutput`. Close it (or use ``with``) to release its memory promptly;
    the garbage collector also closes it.
    """

    def __init__(self, model: str, weights: Optional[PathLike] = None, *, threads: int = 0,
                 exif_transpose: bool = True, precision: str = "float32",
                 calibration_images: Optional[Any] = None) -> None:
        """Opens ``model`` (a compiled model's name or hub repo id, case-insensitive; see :func:`catalog`).

        Args:
            model: e.g. ``"mobilevit-small"`` or ``"apple/mobilevit-small"``.
            weights: a checkpoint file (``model.safetensors``, ``pytorch_model.bin``, a shard index), a folder holding
                one (its config.json must match the compiled model), or a hub repo id ``"org/name[@revision]"`` looked
                up offline in the Hugging Face cache. None: the synthetic checkpoint (seed 0; random weights, for
                tests).
            threads: worker threads per inference, the calling thread included; 0: all cores, at most 8.
            exif_transpose: orient image files and bytes by their EXIF tag before preprocessing, as transformers'
                ``load_image`` does (False: use the stored pixels). Arrays and PIL images are never rotated.
            precision: ``"float32"`` (default; matches PyTorch) or ``"int8"``: int8 weights per output channel and
                7-bit activations in the nn.Linear layers, the rest float32. Loading float weights in int8 runs the
                calibration images in both precisions (see :attr:`quantization_report`); an int8 checkpoint written
                by :func:`quantize` needs ``"int8"`` and loads without that run.
            calibration_images: int8 only: image paths (at most 64) to measure the deviation on; None: 4 built-in
                synthetic images. Photos of the model's domain give a figure that means something for them.

        Raises:
            TypeError, ValueError: an argument of the wrong type or value (e.g. ``precision="fp16"``).
            AotVitError: INVALID_ARGUMENT (unknown model: the message lists the compiled ones; an int8 checkpoint
                opened in float32), IO_ERROR (weights or a calibration image not found: the message lists where it
                looked), BAD_CHECKPOINT (wrong model, bad tensors), BAD_IMAGE (a calibration image), OUT_OF_MEMORY.
        """
        if not isinstance(model, str):
            raise TypeError(f"model must be a str (a compiled model name or repo id), not {type(model).__name__}")
        if not isinstance(threads, int) or threads < 0:
            raise ValueError(f"threads must be an int >= 0 (0: default), not {threads!r}")
        options, keep = _open_options(precision, calibration_images, threads)
        lib = _native.library()
        handle = c_void_p()
        encoded_weights = None if weights is None else os.fsencode(weights)
        status = lib.aotvit_model_open_ex(model.encode("utf-8"), encoded_weights, byref(options), byref(handle))
        del keep
        _check(status)
        self._handle: Optional[c_void_p] = handle
        self._exif_transpose = True
        try:
            self.exif_transpose = exif_transpose
            self._describe(lib)
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_pretrained(cls, repo_id: str, *, threads: int = 0, exif_transpose: bool = True,
                        precision: str = "float32", calibration_images: Optional[Any] = None) -> "Model":
        """As transformers' ``from_pretrained``, offline: the compiled model ``repo_id`` with that repo's weights from
        the local Hugging Face cache (``huggingface-cli download repo_id`` first)."""
        return cls(repo_id, weights=repo_id, threads=threads, exif_transpose=exif_transpose, precision=precision,
                   calibration_images=calibration_images)

    def _describe(self, lib: ctypes.CDLL) -> None:
        h = self._handle
        name, kind = c_char_p(), c_int()
        _check(lib.aotvit_model_name(h, byref(name)))
        _check(lib.aotvit_model_kind(h, byref(kind)))
        assert name.value is not None
        self.name: str = name.value.decode()
        """The compiled model's name (its src/Graphs folder), e.g. ``"mobilevit-small"``."""
        self.task: str = _TASKS.get(kind.value, str(kind.value))
        """``"image-classification"`` or ``"feature-extraction"``."""
        c, hh, w = c_int(), c_int(), c_int()
        _check(lib.aotvit_model_input_shape(h, byref(c), byref(hh), byref(w)))
        self.input_shape: Tuple[int, int, int] = (c.value, hh.value, w.value)
        precision, report = c_int(), c_char_p()
        _check(lib.aotvit_model_precision(h, byref(precision)))
        _check(lib.aotvit_model_quantization_report(h, byref(report)))
        self.precision: str = "int8" if precision.value == _native.PRECISION_INT8 else "float32"
        """``"float32"`` or ``"int8"``: the arithmetic of the nn.Linear layers."""
        self.quantization_report: Optional[str] = (report.value or b"").decode("utf-8", "replace") or None
        """int8: how far int8 is from float32 on the calibration images (per output cosine min/mean and max abs error;
        for a classifier top-1 and top-5 agreement), one line; for an int8 checkpoint the report measured when it was
        written. None for float32."""
        """pixel_values of one image: (channels, height, width)."""
        count = c_int()
        _check(lib.aotvit_model_output_count(h, byref(count)))
        outputs: Dict[str, Tuple[int, ...]] = {}
        for i in range(count.value):
            out_name, shape, rank, floats = c_char_p(), (c_int * 4)(), c_int(), c_size_t()
            _check(lib.aotvit_model_output_info(h, i, byref(out_name), shape, byref(rank), byref(floats)))
            assert out_name.value is not None
            outputs[out_name.value.decode()] = tuple(shape[:rank.value])
        self.output_shapes: Dict[str, Tuple[int, ...]] = outputs
        """Output name -> shape of one image, in the model's order (the batch dimension is added in front)."""
        labels = c_int()
        _check(lib.aotvit_model_label_count(h, byref(labels)))
        self.labels: List[str] = []
        """Class labels by index (empty for a feature extractor)."""
        for i in range(labels.value):
            label = c_char_p()
            _check(lib.aotvit_model_label(h, i, byref(label)))
            assert label.value is not None
            self.labels.append(label.value.decode())

    # -- properties ------------------------------------------------------------------------------------------

    @property
    def id2label(self) -> Dict[int, str]:
        """Labels as in the model's config.json (``id2label``)."""
        return dict(enumerate(self.labels))

    @property
    def is_classifier(self) -> bool:
        """True for an image classifier (outputs ``logits``), False for a feature extractor."""
        return self.task == "image-classification"

    @property
    def output_names(self) -> Tuple[str, ...]:
        """Output names in order, e.g. ``("last_hidden_state", "pooler_output")`` or ``("logits",)``."""
        return tuple(self.output_shapes)

    @property
    def exif_transpose(self) -> bool:
        """Whether image files and bytes are oriented by their EXIF tag first (as transformers' load_image)."""
        return self._exif_transpose

    @exif_transpose.setter
    def exif_transpose(self, enabled: bool) -> None:
        _check(_native.library().aotvit_model_set_exif_transpose(self._live(), 1 if enabled else 0))
        self._exif_transpose = bool(enabled)

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._handle is None

    # -- lifetime --------------------------------------------------------------------------------------------

    def _live(self) -> c_void_p:
        handle = getattr(self, "_handle", None)
        if handle is None:
            raise ValueError("operation on a closed aotvit.Model")
        return handle

    def close(self) -> None:
        """Releases the handle and its memory (waits for a call running on another thread). Idempotent."""
        handle, self._handle = getattr(self, "_handle", None), None
        if handle is not None:
            _native.library().aotvit_model_destroy(handle)

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may already be gone; nothing to report to
            pass

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{self.task}, input {self.input_shape}" + \
            (", int8" if getattr(self, "precision", "float32") == "int8" else "")
        return f"aotvit.Model({getattr(self, 'name', '?')!r}, {state})"

    # -- inference -------------------------------------------------------------------------------------------

    def _allocate(self, batch: int) -> Dict[str, np.ndarray]:
        return {name: np.empty((batch,) + shape, dtype=np.float32) for name, shape in self.output_shapes.items()}

    def _wrap(self, outputs: Dict[str, np.ndarray]) -> ModelOutput:
        return ImageClassifierOutput(outputs) if self.is_classifier else BaseModelOutputWithPooling(outputs)

    @staticmethod
    def _out_args(rows: List[np.ndarray]) -> Tuple[Any, ...]:
        """(out0, out0_len, out1, out1_len) for the C calls; rows are C-contiguous float32 output slices."""
        out0 = rows[0]
        if len(rows) > 1:
            return _float_ptr(out0), out0.size, _float_ptr(rows[1]), rows[1].size
        return _float_ptr(out0), out0.size, None, 0

    def __call__(self, images: Any) -> ModelOutput:
        """Runs the model on one image or a batch (see :data:`ImageInput`).

        Encoded images (paths, bytes) are decoded and preprocessed by the library exactly as the HF image processor
        does, then run together as one batch; pixel arrays and PIL images go through ``aotvit_run_rgb8`` one by one.
        Every output has a leading batch dimension, also for a single image (as transformers).

        Raises:
            TypeError, ValueError: an input of the wrong type, dtype or shape (before anything runs).
            AotVitError: IO_ERROR (missing file), BAD_IMAGE (undecodable), LIMIT_EXCEEDED (huge image).
        """
        lib = _native.library()
        handle = self._live()
        items = _as_batch(images)
        outputs = self._allocate(len(items))
        encoded = [i for i, item in enumerate(items) if isinstance(item, _Encoded)]
        if len(items) == 1 and encoded:
            item = items[0]
            assert isinstance(item, _Encoded)
            args = self._out_args(list(outputs.values()))
            if item.path is not None:
                _check(lib.aotvit_run_image_file(handle, item.path, *args))
            else:
                assert item.data is not None
                _check(lib.aotvit_run_image_bytes(handle, _u8_ptr(item.data), item.data.size, *args))
            return self._wrap(outputs)
        if encoded:
            pixels = self.preprocess([items[i] for i in encoded])
            # Outputs of run_pixels are bit-identical to per-image runs (batch is only the leading dimension).
            direct = len(encoded) == len(items)
            target = outputs if direct else self._allocate(len(encoded))
            self._run_pixels_into(pixels, target)
            if not direct:
                for name, array in target.items():
                    outputs[name][encoded] = array
        for i, item in enumerate(items):
            if isinstance(item, np.ndarray):
                height, width = item.shape[0], item.shape[1]
                args = self._out_args([array[i] for array in outputs.values()])
                _check(lib.aotvit_run_rgb8(handle, _u8_ptr(item), item.size, width, height, *args))
        return self._wrap(outputs)

    def preprocess(self, images: Any) -> np.ndarray:
        """pixel_values [batch, C, H, W] float32 of encoded images (paths or bytes), as the HF image processor gives
        them (resize, rescale, normalise, crop; EXIF orientation as :attr:`exif_transpose`). Runs outside the model's
        lock. For pixel arrays and PIL images call the model directly (the C ABI preprocesses those inside
        ``aotvit_run_rgb8``)."""
        lib = _native.library()
        handle = self._live()
        items = images if isinstance(images, list) and all(isinstance(i, _Encoded) for i in images) \
            else _as_batch(images)
        pixels = np.empty((len(items),) + self.input_shape, dtype=np.float32)
        for i, item in enumerate(items):
            if not isinstance(item, _Encoded):
                raise TypeError(f"image {i}: preprocess takes paths and encoded bytes; call the model on pixel "
                                "arrays and PIL images directly")
            row = pixels[i]
            if item.path is not None:
                _check(lib.aotvit_preprocess_image_file(handle, item.path, _float_ptr(row), row.size))
            else:
                assert item.data is not None
                _check(lib.aotvit_preprocess_image_bytes(handle, _u8_ptr(item.data), item.data.size,
                                                         _float_ptr(row), row.size))
        return pixels

    def _run_pixels_into(self, pixels: np.ndarray, outputs: Dict[str, np.ndarray]) -> None:
        args = self._out_args(list(outputs.values()))
        _check(_native.library().aotvit_run_pixels(self._live(), pixels.shape[0], _float_ptr(pixels), pixels.size,
                                                   *args))

    def run_pixel_values(self, pixel_values: np.ndarray) -> ModelOutput:
        """Runs preprocessed ``pixel_values`` [batch, C, H, W] (float32, as the HF image processor returns them in
        ``processor(images, return_tensors="np")["pixel_values"]``)."""
        if not isinstance(pixel_values, np.ndarray):
            raise TypeError(f"pixel_values must be a NumPy array, not {type(pixel_values).__name__}")
        if pixel_values.ndim != 4 or pixel_values.shape[1:] != self.input_shape or pixel_values.shape[0] < 1:
            raise ValueError(f"pixel_values has shape {pixel_values.shape}; {self.name} needs "
                             f"(batch >= 1, {', '.join(map(str, self.input_shape))})")
        if pixel_values.dtype != np.float32:
            raise TypeError(f"pixel_values has dtype {pixel_values.dtype}; float32 needed")
        pixels = np.ascontiguousarray(pixel_values)
        outputs = self._allocate(pixels.shape[0])
        self._run_pixels_into(pixels, outputs)
        return self._wrap(outputs)

    @overload
    def top_k(self, logits: ModelOutput, k: int = 5) -> List[List[Prediction]]: ...

    @overload
    def top_k(self, logits: np.ndarray, k: int = 5) -> Union[List[Prediction], List[List[Prediction]]]: ...

    def top_k(self, logits: Union[ModelOutput, np.ndarray], k: int = 5) -> Any:
        """The ``k`` most probable classes, best first (ties: lower index first), as :class:`Prediction`.

        ``logits`` is a classifier's output (one list per image), a [batch, classes] array (one list per image) or a
        [classes] array (one list).

        Raises:
            AotVitError: WRONG_MODEL_KIND on a feature extractor; INVALID_ARGUMENT for k outside 0..classes.
            ValueError: logits of the wrong shape.
        """
        lib = _native.library()
        handle = self._live()
        if not self.is_classifier:
            raise AotVitError(Status.WRONG_MODEL_KIND,
                              f"top_k needs an image classifier; {self.name} is a feature extractor")
        array = logits["logits"] if isinstance(logits, ModelOutput) else logits
        array = np.ascontiguousarray(array, dtype=np.float32)
        single = array.ndim == 1
        rows = array[None, :] if single else array
        classes = len(self.labels)
        if rows.ndim != 2 or rows.shape[1] != classes:
            raise ValueError(f"logits has shape {array.shape}; {self.name} has {classes} classes "
                             f"(pass [batch, {classes}] or [{classes}])")
        if not isinstance(k, int) or isinstance(k, bool):
            raise TypeError(f"k must be an int, not {type(k).__name__}")
        indices = np.empty(max(k, 1), dtype=np.int32)
        scores = np.empty(max(k, 1), dtype=np.float32)
        results: List[List[Prediction]] = []
        for row in rows:
            _check(lib.aotvit_classify_top_k(handle, _float_ptr(row), row.size, k,
                                             indices.ctypes.data_as(POINTER(c_int32)), indices.size,
                                             _float_ptr(scores), scores.size))
            results.append([Prediction(self.labels[int(indices[j])], float(scores[j]), int(indices[j]))
                            for j in range(k)])
        return results[0] if single else results
