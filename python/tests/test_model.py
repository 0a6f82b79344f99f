"""The aotvit package against the C ABI contract and the C# API: inputs, outputs, errors, parity bit for bit."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

import aotvit
from aotvit import _native
from conftest import CHELSEA, IMAGES, MOBILEVIT, ROOT, SMALL, VIT, read_f32


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.ascontiguousarray(a, dtype=np.float32), np.ascontiguousarray(b, dtype=np.float32)
    return a.shape == b.shape and a.tobytes() == b.tobytes()


# -- installation and library choice ------------------------------------------------------------------------

def test_installed_package_is_used() -> None:
    # The suite must exercise the wheel, not the source tree.
    assert ROOT / "python" not in Path(aotvit.__file__).resolve().parents, aotvit.__file__
    assert "site-packages" in aotvit.__file__
    assert Path(aotvit.library_path()).parent == Path(aotvit.__file__).parent / "_lib"


def test_library_matches_cpu() -> None:
    cpu = _native.detect_isa()
    assert _native.cpuid_isa() == cpu  # CPUID is available here (x86-64, executable memory allowed)
    # On real hardware the kernel's flags agree with CPUID (they differ under qemu-user: see below).
    assert _native.best_isa(_native.cpu_flags()) == cpu
    if os.environ.get("AOTVIT_ISA") or os.environ.get("AOTVIT_LIBRARY"):
        pytest.skip("library forced by the environment")
    assert cpu is not None
    expected = "v4" if cpu == "v4" else "v3"
    assert aotvit.library_version().endswith(f"+x86-64-{expected}")
    assert Path(aotvit.library_path()).name == _native.ISA_LIBRARIES[expected]


def test_isa_choice_from_flags(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma bmi2 movbe\n\nprocessor\t: 1\n")
    flags = _native.cpu_flags(str(cpuinfo))
    assert _native.best_isa(flags) == "v3"
    assert _native.best_isa(flags | {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}) == "v4"
    assert _native.best_isa(flags | {"avx512f"}) == "v3"  # F alone is not x86-64-v4
    assert _native.best_isa(frozenset({"sse2", "avx"})) is None
    assert _native.cpu_flags(str(tmp_path / "missing")) == frozenset()


def test_forced_v3_library_agrees_with_v4(mobilevit: aotvit.Model) -> None:
    shipped = Path(aotvit.__file__).parent / "_lib" / _native.ISA_LIBRARIES["v3"]
    if not shipped.is_file():
        pytest.skip("this wheel ships no x86-64-v3 library (built with --no-v3)")
    # A new interpreter: the library is chosen once per process.
    result = subprocess.run([sys.executable, "-c",
                             "import aotvit, sys\n"
                             f"m = aotvit.Model({SMALL!r}, threads=1)\n"
                             "sys.stdout.buffer.write(aotvit.library_version().encode() + b'\\n')\n"
                             f"sys.stdout.buffer.write(m({str(CHELSEA)!r}).logits.tobytes())\n"],
                            capture_output=True, timeout=300, env={**os.environ, "AOTVIT_ISA": "v3"})
    assert result.returncode == 0, result.stderr.decode()
    version, _, raw = result.stdout.partition(b"\n")
    assert version.decode().endswith("+x86-64-v3")
    v3 = np.frombuffer(raw, dtype=np.float32).reshape(1, 1000)
    v4 = mobilevit(CHELSEA).logits
    # docs/NATIVE.md: v3 and v4 differ by at most 5e-7 on these logits (other GEMM path).
    assert np.max(np.abs(v3 - v4)) <= 1e-4


QEMU = shutil.which("qemu-x86_64")


@pytest.mark.skipif(QEMU is None, reason="qemu-x86_64 not installed (Debian qemu-user)")
@pytest.mark.parametrize("cpu, expected", [("Haswell", "+x86-64-v3"), ("Nehalem", "below x86-64-v3")])
def test_isa_choice_on_emulated_cpus(cpu: str, expected: str) -> None:
    # qemu-user emulates CPUID but shows the host's /proc/cpuinfo: the choice must follow CPUID. Haswell (AVX2, no
    # AVX-512) must get the v3 library, which then starts; Nehalem (no AVX2) gets a clear ImportError.
    code = ("import aotvit\n"
            "try:\n"
            "    print(aotvit.library_version())\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    result = subprocess.run([str(QEMU), "-cpu", cpu, sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    if expected.startswith("+") and not (Path(aotvit.__file__).parent / "_lib" / _native.ISA_LIBRARIES["v3"]).is_file():
        assert "cannot run the shipped builds" in result.stdout  # a v4-only wheel on a v3 CPU says so
    else:
        assert expected in result.stdout, result.stdout


def test_bad_isa_override_is_reported() -> None:
    result = subprocess.run([sys.executable, "-c", "import aotvit; aotvit.catalog()"], capture_output=True,
                            text=True, timeout=120, env={**os.environ, "AOTVIT_ISA": "v9"})
    assert result.returncode != 0 and "AOTVIT_ISA must be 'v3' or 'v4'" in result.stderr


# -- catalog and opening ---------------------------------------------------------------------------------------

def test_catalog() -> None:
    models = {m.name: m for m in aotvit.catalog()}
    assert models[VIT].task == "feature-extraction"
    assert models[VIT].repo_id == "google/vit-base-patch32-224-in21k"
    assert models[MOBILEVIT].task == "image-classification"
    assert models[MOBILEVIT].repo_id == "apple/mobilevit-small"
    assert {"mobilevit-x-small", "mobilevit-xx-small", "vit-base-patch16-224",
            "deit-small-distilled-patch16-224"} <= set(models)
    assert aotvit.library_version().startswith("0.1.0+x86-64-v")


def test_open_by_repo_id_case_insensitive(mobilevit: aotvit.Model) -> None:
    with aotvit.Model("Apple/MobileViT-XX-Small", threads=1) as model:
        assert model.name == SMALL
        assert same_bits(model(CHELSEA).logits, mobilevit(CHELSEA).logits)


def test_model_description(mobilevit_s: aotvit.Model, vit: aotvit.Model) -> None:
    mobilevit = mobilevit_s
    assert mobilevit.task == "image-classification" and mobilevit.is_classifier
    assert mobilevit.input_shape == (3, 256, 256)
    assert mobilevit.output_shapes == {"logits": (1000,)}
    assert len(mobilevit.labels) == 1000 and mobilevit.id2label[281] == mobilevit.labels[281]
    assert "tabby" in mobilevit.labels[281]
    assert vit.task == "feature-extraction" and not vit.is_classifier
    assert vit.input_shape == (3, 224, 224)
    assert vit.output_names == ("last_hidden_state", "pooler_output")
    assert vit.output_shapes == {"last_hidden_state": (50, 768), "pooler_output": (768,)}
    assert vit.labels == []
    assert "mobilevit-small" in repr(mobilevit)


def test_unknown_model() -> None:
    with pytest.raises(aotvit.AotVitError) as error:
        aotvit.Model("resnet-50")
    assert error.value.status == aotvit.Status.INVALID_ARGUMENT
    assert MOBILEVIT in error.value.message and "resnet-50" in error.value.message
    assert str(error.value).startswith("AOTVIT_INVALID_ARGUMENT: ")


def test_input_and_internal_errors_are_told_apart(mobilevit: aotvit.Model) -> None:
    # 1x4000 through MobileViT's shortest-edge resize is a 288x1152000 intermediate: a size limit, the input's fault.
    with pytest.raises(aotvit.AotVitError) as error:
        mobilevit(np.zeros((4000, 1, 3), dtype=np.uint8))
    assert error.value.status == aotvit.Status.LIMIT_EXCEEDED and error.value.is_input_error
    assert not isinstance(error.value, aotvit.AotVitInternalError)
    assert "aspect ratio is too extreme" in error.value.message and "Arg_" not in error.value.message
    internal = aotvit._error(aotvit.Status.INTERNAL_ERROR, "internal error (System.ArgumentException): k")
    assert isinstance(internal, aotvit.AotVitInternalError) and not internal.is_input_error
    assert aotvit._error(aotvit.Status.BAD_IMAGE, "x").is_input_error


def test_missing_weights(tmp_path: Path) -> None:
    with pytest.raises(aotvit.AotVitError) as error:
        aotvit.Model(MOBILEVIT, tmp_path / "nothing.safetensors")
    assert error.value.status == aotvit.Status.IO_ERROR


def test_repo_id_not_in_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(aotvit.AotVitError) as error:
        aotvit.Model.from_pretrained("apple/mobilevit-small")
    assert error.value.status == aotvit.Status.IO_ERROR
    assert str(tmp_path) in error.value.message  # the message says where it looked


def test_bad_checkpoint(tmp_path: Path) -> None:
    bogus = tmp_path / "model.safetensors"
    bogus.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\": 1}       ")
    with pytest.raises(aotvit.AotVitError) as error:
        aotvit.Model(MOBILEVIT, bogus)
    assert error.value.status == aotvit.Status.BAD_CHECKPOINT


def test_bad_arguments_to_open() -> None:
    with pytest.raises(TypeError):
        aotvit.Model(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        aotvit.Model(MOBILEVIT, threads=-1)


# -- outputs: names, shapes, types -------------------------------------------------------------------------------

def test_classifier_output(mobilevit: aotvit.Model) -> None:
    out = mobilevit(str(CHELSEA))
    assert isinstance(out, aotvit.ImageClassifierOutput)
    assert out.logits.shape == (1, 1000) and out.logits.dtype == np.float32
    assert list(out) == ["logits"] and len(out) == 1
    assert out["logits"] is out.logits and out[0] is out.logits and out.to_tuple() == (out.logits,)
    with pytest.raises(AttributeError, match="no output 'pooler_output'"):
        out.pooler_output  # noqa: B018
    assert "logits=(1, 1000)" in repr(out)


def test_feature_extractor_output(vit: aotvit.Model) -> None:
    out = vit(CHELSEA)
    assert isinstance(out, aotvit.BaseModelOutputWithPooling)
    assert out.last_hidden_state.shape == (1, 50, 768) and out.last_hidden_state.dtype == np.float32
    assert out.pooler_output is not None and out.pooler_output.shape == (1, 768)
    assert list(out.keys()) == ["last_hidden_state", "pooler_output"]
    assert np.all(np.abs(out.pooler_output) <= 1.0)  # tanh


# -- parity with the C# API, bit for bit ---------------------------------------------------------------------

def test_mobilevit_parity_with_csharp(mobilevit_s: aotvit.Model, reference_dir: Path) -> None:
    mobilevit = mobilevit_s
    expected = read_f32(reference_dir / "managed.cls.f32").reshape(1, 1000)
    data = CHELSEA.read_bytes()
    rgb = np.asarray(Image.open(CHELSEA).convert("RGB"))
    for how, got in [("path", mobilevit(CHELSEA).logits), ("bytes", mobilevit(data).logits),
                     ("numpy", mobilevit(rgb).logits), ("PIL", mobilevit(Image.open(CHELSEA)).logits),
                     ("pixel_values", mobilevit.run_pixel_values(mobilevit.preprocess(CHELSEA)).logits)]:
        assert same_bits(got, expected), how


def test_vit_parity_with_csharp(vit: aotvit.Model, reference_dir: Path) -> None:
    expected = read_f32(reference_dir / "managed.emb.f32")
    hidden, pooled = expected[:50 * 768].reshape(1, 50, 768), expected[50 * 768:].reshape(1, 768)
    rgb = np.asarray(Image.open(CHELSEA).convert("RGB"))
    for how, out in [("path", vit(CHELSEA)), ("numpy", vit(rgb)), ("batch of 3", vit([CHELSEA, rgb, CHELSEA]))]:
        for row in range(out.last_hidden_state.shape[0]):
            assert same_bits(out.last_hidden_state[row:row + 1], hidden), (how, row)
            assert same_bits(out.pooler_output[row:row + 1], pooled), (how, row)


# -- input kinds ---------------------------------------------------------------------------------------------

PNGS = ["chelsea.png", "rgba.png", "palette.png", "palette_trns.png", "grey.png", "grey_alpha.png", "small.png",
        "bilevel.png"]


@pytest.mark.parametrize("name", PNGS)
def test_every_input_kind_agrees(mobilevit: aotvit.Model, name: str) -> None:
    # PNG is lossless, so the library's decoder and Pillow give the same pixels: every route must agree bit for bit.
    path = IMAGES / name
    expected = mobilevit(str(path)).logits
    pil = Image.open(path)
    routes = {
        "Path": mobilevit(path).logits,
        "bytes": mobilevit(path.read_bytes()).logits,
        "bytearray": mobilevit(bytearray(path.read_bytes())).logits,
        "memoryview": mobilevit(memoryview(path.read_bytes())).logits,
        "PIL (mode %s)" % pil.mode: mobilevit(pil).logits,
        "numpy": mobilevit(np.asarray(pil.convert("RGB"))).logits,
    }
    for how, got in routes.items():
        assert same_bits(got, expected), how


def test_batch_of_mixed_inputs(mobilevit: aotvit.Model) -> None:
    paths = [IMAGES / n for n in ("chelsea.png", "coffee.png", "astronaut.png", "rgba.png")]
    singles = [mobilevit(p).logits[0] for p in paths]
    mixed = [str(paths[0]), paths[1].read_bytes(), Image.open(paths[2]), np.asarray(Image.open(paths[3]).convert("RGB"))]
    for batch in (mixed, tuple(mixed), paths):
        out = mobilevit(batch)
        assert out.logits.shape == (4, 1000)
        for row, single in zip(out.logits, singles):
            assert same_bits(row, single)


def test_batch_as_4d_array(mobilevit: aotvit.Model) -> None:
    images = np.stack([np.asarray(Image.open(IMAGES / "chelsea.png").convert("RGB"))] * 2)
    out = mobilevit(images)
    assert out.logits.shape == (2, 1000)
    assert same_bits(out.logits[0], out.logits[1]) and same_bits(out.logits[:1], mobilevit(CHELSEA).logits)


def test_numpy_size_comes_from_shape(mobilevit: aotvit.Model) -> None:
    # Transposing a non-square image (300x451 -> 451x300) keeps the byte count but must change the result.
    rgb = np.asarray(Image.open(CHELSEA).convert("RGB"))
    transposed = np.ascontiguousarray(rgb.transpose(1, 0, 2))
    assert not same_bits(mobilevit(rgb).logits, mobilevit(transposed).logits)
    assert same_bits(mobilevit(transposed).logits, mobilevit(Image.open(CHELSEA).transpose(Image.Transpose.TRANSPOSE)).logits)


def test_jpeg_inputs(mobilevit: aotvit.Model) -> None:
    for name in ("rocket.jpg", "phone_420_q85.jpg", "progressive.jpg"):
        path = IMAGES / name
        assert same_bits(mobilevit(path).logits, mobilevit(path.read_bytes()).logits), name


def test_preprocess(mobilevit: aotvit.Model, vit: aotvit.Model) -> None:
    pixels = mobilevit.preprocess([CHELSEA, (IMAGES / "coffee.png").read_bytes()])
    assert pixels.shape == (2, 3, 256, 256) and pixels.dtype == np.float32
    out = mobilevit.run_pixel_values(pixels)
    assert same_bits(out.logits[0], mobilevit(CHELSEA).logits[0])
    assert vit.preprocess(CHELSEA).shape == (1, 3, 224, 224)
    with pytest.raises(TypeError, match="preprocess takes paths"):
        mobilevit.preprocess(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match=r"needs \(batch >= 1, 3, 256, 256\)"):
        mobilevit.run_pixel_values(np.zeros((1, 3, 224, 224), np.float32))
    with pytest.raises(TypeError, match="float32"):
        mobilevit.run_pixel_values(np.zeros((1, 3, 256, 256), np.float64))


# -- EXIF ----------------------------------------------------------------------------------------------------

def test_exif_transpose_flag(mobilevit: aotvit.Model) -> None:
    photo = IMAGES / "photo_exif6.jpg"  # EXIF orientation 6: stored sideways
    oriented = mobilevit(photo).logits
    with aotvit.Model(SMALL, threads=1, exif_transpose=False) as raw_model:
        assert raw_model.exif_transpose is False
        stored = raw_model(photo).logits
        raw_model.exif_transpose = True
        assert same_bits(raw_model(photo).logits, oriented)
    assert not same_bits(oriented, stored)
    # The bytes route honours the flag too; a PIL image is taken as given (as transformers' image processors do).
    assert same_bits(mobilevit(photo.read_bytes()).logits, oriented)
    stored_size = Image.open(photo).size
    assert Image.open(photo).getexif().get(0x0112) == 6
    assert ImageOps.exif_transpose(Image.open(photo)).size == stored_size[::-1]


# -- top_k ---------------------------------------------------------------------------------------------------

def test_top_k_over_a_batch(mobilevit: aotvit.Model) -> None:
    out = mobilevit([CHELSEA, IMAGES / "coffee.png"])
    top = mobilevit.top_k(out, k=5)
    assert len(top) == 2 and all(len(t) == 5 for t in top)
    for row, predictions in zip(out.logits, top):
        assert [p.index for p in predictions] == list(np.argsort(-row, kind="stable")[:5])
        assert all(p.label == mobilevit.labels[p.index] for p in predictions)
        scores = [p.score for p in predictions]
        assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
        softmax = np.exp(row.astype(np.float64) - row.max())
        softmax /= softmax.sum()
        assert abs(scores[0] - softmax[predictions[0].index]) < 1e-6
    assert mobilevit.top_k(out.logits, 5) == top
    single = mobilevit.top_k(out.logits[0], 3)
    assert single == top[0][:3]
    assert mobilevit.top_k(out, 0) == [[], []]


def test_top_k_errors(mobilevit: aotvit.Model, vit: aotvit.Model) -> None:
    with pytest.raises(aotvit.AotVitError) as error:
        vit.top_k(vit(CHELSEA).pooler_output, 5)
    assert error.value.status == aotvit.Status.WRONG_MODEL_KIND
    logits = mobilevit(CHELSEA).logits
    with pytest.raises(aotvit.AotVitError) as error:
        mobilevit.top_k(logits, 1001)
    assert error.value.status == aotvit.Status.INVALID_ARGUMENT
    with pytest.raises(ValueError, match="1000 classes"):
        mobilevit.top_k(logits[:, :999], 5)


# -- input errors --------------------------------------------------------------------------------------------

def test_bad_dtype(mobilevit: aotvit.Model) -> None:
    with pytest.raises(TypeError, match="dtype float32; aotvit needs uint8"):
        mobilevit(np.zeros((32, 32, 3), np.float32))


@pytest.mark.parametrize("shape", [(32, 32), (32, 32, 4), (3, 32, 32), (0, 32, 3), (2, 2, 32, 32, 3)])
def test_bad_shape(mobilevit: aotvit.Model, shape: tuple) -> None:
    with pytest.raises(ValueError):
        mobilevit(np.zeros(shape, np.uint8))


def test_not_contiguous(mobilevit: aotvit.Model) -> None:
    rgb = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(ValueError, match="not C-contiguous"):
        mobilevit(rgb[:, ::2])
    with pytest.raises(ValueError, match=r"image 1: .*not C-contiguous"):
        mobilevit([rgb, rgb[::2]])


def test_missing_file(mobilevit: aotvit.Model, tmp_path: Path) -> None:
    with pytest.raises(aotvit.AotVitError) as error:
        mobilevit(tmp_path / "missing.png")
    assert error.value.status == aotvit.Status.IO_ERROR
    assert "missing.png" in error.value.message
    with pytest.raises(aotvit.AotVitError) as error:  # also inside a batch
        mobilevit([CHELSEA, tmp_path / "missing.png"])
    assert error.value.status == aotvit.Status.IO_ERROR


def test_file_name_not_utf8(mobilevit: aotvit.Model, tmp_path: Path) -> None:
    # A Latin-1 name from an old archive: Python holds it as a surrogate escape, the library gets its bytes.
    path = os.fsdecode(os.fsencode(str(tmp_path)) + b"/caf\xe9.png")
    assert "\udce9" in path
    shutil.copyfile(CHELSEA, path)
    expected = mobilevit(CHELSEA).logits
    assert np.array_equal(mobilevit(path).logits, expected)
    assert np.array_equal(mobilevit(Path(path)).logits, expected)


def test_forked_child_is_refused_not_hung(mobilevit: aotvit.Model) -> None:
    # A fork(2) child has none of the library's threads: a batch there once waited forever. Now every call that loads
    # or runs a model says so, and the child's finalisers (Model.__del__ -> destroy) do not hang on the way out.
    mobilevit([CHELSEA, CHELSEA])
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        code = 1
        try:
            signal_alarm = __import__("signal").alarm
            signal_alarm(60)
            try:
                mobilevit([CHELSEA, CHELSEA])
                message = "ran"
            except aotvit.AotVitError as error:
                message = f"{int(error.status)} {error.message}"
            try:
                aotvit.Model(MOBILEVIT, threads=1)
                message += " | opened"
            except aotvit.AotVitError as error:
                message += f" | {int(error.status)}"
            mobilevit.close()  # destroy: nothing to wait for in the child
            message += " | closed"
            os.write(write, message.encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    message = os.read(read, 4096).decode()
    os.close(read)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"child status {status}"
    assert message.startswith(f"{int(aotvit.Status.INVALID_ARGUMENT)} aotvit was started in process {os.getpid()}"), message
    assert "is a fork(2) child" in message and "'spawn'" in message
    assert message.endswith(f" | {int(aotvit.Status.INVALID_ARGUMENT)} | closed"), message
    assert mobilevit([CHELSEA, CHELSEA]).logits.shape == (2, 1000)  # the parent is untouched


def test_undecodable_bytes(mobilevit: aotvit.Model) -> None:
    with pytest.raises(aotvit.AotVitError) as error:
        mobilevit(CHELSEA.read_bytes()[:100])
    assert error.value.status == aotvit.Status.BAD_IMAGE


def test_other_input_errors(mobilevit: aotvit.Model) -> None:
    with pytest.raises(TypeError, match="unsupported input type int"):
        mobilevit(42)
    with pytest.raises(TypeError, match="image 1: unsupported input type list"):
        mobilevit([CHELSEA, [[0, 0, 0]]])
    with pytest.raises(ValueError, match="empty batch"):
        mobilevit([])
    with pytest.raises(ValueError, match="empty bytes"):
        mobilevit(b"")


# -- lifetime and threads ------------------------------------------------------------------------------------

def test_context_manager_and_close() -> None:
    with aotvit.Model("mobilevit-xx-small") as model:
        assert not model.closed
        model(CHELSEA)
    assert model.closed
    with pytest.raises(ValueError, match="closed"):
        model(CHELSEA)
    model.close()  # idempotent


def test_shared_model_across_threads(mobilevit: aotvit.Model) -> None:
    expected = mobilevit(CHELSEA).logits
    results: list = []
    errors: list = []

    def work() -> None:
        try:
            for _ in range(2):
                results.append(mobilevit([CHELSEA, np.asarray(Image.open(CHELSEA).convert("RGB"))]).logits)
        except Exception as e:  # reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 6
    assert all(same_bits(r[0], expected[0]) and same_bits(r[1], expected[0]) for r in results)
