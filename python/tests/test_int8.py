"""int8 through the package: precision= and calibration_images= on Model, model.precision and
model.quantization_report, aotvit.quantize, and the errors bad values get. MobileViT-XXS only, one thread, one or
two calibration images: the int8 GEMM on this branch is a scalar stand-in."""
from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

import aotvit
from aotvit import _native
from conftest import CHELSEA, IMAGES, SMALL

COFFEE = IMAGES / "coffee.png"


@pytest.fixture(scope="module")
def int8_model() -> Iterator[aotvit.Model]:
    """MobileViT-XXS, synthetic weights, quantized on load, calibrated on chelsea.png."""
    with aotvit.Model(SMALL, threads=1, precision="int8", calibration_images=[CHELSEA]) as model:
        yield model


@pytest.fixture(scope="module")
def checkpoint(reference_dir: Path) -> Path:
    """The synthetic MobileViT-XXS float checkpoint written by samples/csharp make-weights (python_check.sh)."""
    path = reference_dir / f"{SMALL}.safetensors"
    if not path.is_file():
        pytest.fail(f"{path} missing: run tools/python_check.sh (it writes it)")
    return path


def test_options_struct_matches_the_header() -> None:
    # aotvit.h: 32 bytes on 64-bit targets (size_t, int, int, pointer, int + padding).
    assert ctypes.sizeof(_native.OpenOptions) == 32
    assert aotvit.PRECISIONS == ("float32", "int8")


def test_int8_model_reports_precision_and_deviation(int8_model: aotvit.Model, mobilevit: aotvit.Model) -> None:
    assert int8_model.precision == "int8"
    report = int8_model.quantization_report
    assert report is not None
    assert report.startswith("int8 vs float32 on 1 calibration image (chelsea.png)")
    assert "logits: cosine min" in report and "top-5 agreement" in report
    assert "int8" in repr(int8_model)
    out = int8_model(CHELSEA)
    assert out.logits.shape == (1, 1000) and out.logits.dtype == np.float32
    # int8 is close to float32 on the same (synthetic) weights, not equal.
    reference = mobilevit(CHELSEA).logits
    cosine = float(np.dot(out.logits[0], reference[0]) /
                   (np.linalg.norm(out.logits[0]) * np.linalg.norm(reference[0])))
    assert cosine > 0.99
    assert int8_model.top_k(out, k=5)


def test_float32_is_the_default_and_has_no_report(mobilevit: aotvit.Model) -> None:
    assert mobilevit.precision == "float32"
    assert mobilevit.quantization_report is None
    with aotvit.Model(SMALL, threads=1, precision="float32") as explicit:
        assert explicit.precision == "float32" and explicit.quantization_report is None
        assert explicit(CHELSEA).logits.tobytes() == mobilevit(CHELSEA).logits.tobytes()


def test_int8_with_built_in_calibration_images() -> None:
    with aotvit.Model(SMALL, threads=1, precision="int8") as model:
        assert model.precision == "int8"
        assert "4 built-in synthetic images" in (model.quantization_report or "")


@pytest.mark.parametrize("precision", ["fp16", "INT8", "", "float"])
def test_bad_precision_value(precision: str) -> None:
    with pytest.raises(ValueError, match="precision must be one of"):
        aotvit.Model(SMALL, precision=precision)


def test_bad_precision_type() -> None:
    with pytest.raises(TypeError, match="precision must be a str"):
        aotvit.Model(SMALL, precision=8)  # type: ignore[arg-type]


def test_bad_calibration_arguments(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="not a single path"):
        aotvit.Model(SMALL, precision="int8", calibration_images=str(CHELSEA))
    with pytest.raises(TypeError, match="not a single path"):
        aotvit.Model(SMALL, precision="int8", calibration_images=CHELSEA)
    with pytest.raises(TypeError, match=r"calibration_images\[1\] must be a path"):
        aotvit.Model(SMALL, precision="int8", calibration_images=[CHELSEA, None])
    with pytest.raises(TypeError, match="must be a list of image paths"):
        aotvit.Model(SMALL, precision="int8", calibration_images=42)
    with pytest.raises(ValueError, match=r"calibration_images\[0\] is an empty path"):
        aotvit.Model(SMALL, precision="int8", calibration_images=[""])
    with pytest.raises(ValueError, match="NUL"):
        aotvit.Model(SMALL, precision="int8", calibration_images=["a\0b.png"])
    with pytest.raises(ValueError, match="at most 64"):
        aotvit.Model(SMALL, precision="int8", calibration_images=[CHELSEA] * 65)
    with pytest.raises(ValueError, match="only with precision='int8'"):
        aotvit.Model(SMALL, calibration_images=[CHELSEA])


def test_calibration_image_errors_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(aotvit.AotVitError) as error:
        aotvit.Model(SMALL, threads=1, precision="int8", calibration_images=[tmp_path / "missing.png"])
    assert error.value.status == aotvit.Status.IO_ERROR and error.value.is_input_error
    assert "missing.png" in error.value.message
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"not an image at all")
    with pytest.raises(aotvit.AotVitError) as error:
        aotvit.Model(SMALL, threads=1, precision="int8", calibration_images=[garbage])
    assert error.value.status == aotvit.Status.BAD_IMAGE and error.value.is_input_error
    assert not isinstance(error.value, aotvit.AotVitInternalError)


def test_quantize_round_trip(checkpoint: Path, tmp_path: Path) -> None:
    target = tmp_path / "int8.safetensors"
    report = aotvit.quantize(SMALL, checkpoint, target, calibration_images=[CHELSEA, COFFEE], threads=1)
    assert report.startswith("int8 vs float32 on 2 calibration images (chelsea.png, coffee.png)")
    assert target.is_file() and target.stat().st_size < checkpoint.stat().st_size
    assert not Path(str(target) + ".partial").exists()

    with aotvit.Model(SMALL, target, threads=1, precision="int8") as reloaded, \
            aotvit.Model(SMALL, checkpoint, threads=1, precision="int8",
                         calibration_images=[CHELSEA, COFFEE]) as in_place:
        assert reloaded.precision == "int8"
        carried = reloaded.quantization_report or ""
        assert "measured when the int8 checkpoint was written" in carried
        assert carried == report.replace("):", "), measured when the int8 checkpoint was written:", 1)
        assert in_place.quantization_report == report
        # Same int8 weights: the same bits, whether quantized on load or read from the int8 file.
        assert reloaded(COFFEE).logits.tobytes() == in_place(COFFEE).logits.tobytes()

    # An int8 checkpoint opened in float32: an input error that says how to open it.
    with pytest.raises(aotvit.AotVitError) as error:
        aotvit.Model(SMALL, target, threads=1)
    assert error.value.status == aotvit.Status.INVALID_ARGUMENT and error.value.is_input_error
    assert "is an int8 checkpoint" in error.value.message
    # Quantizing an int8 checkpoint again is refused.
    with pytest.raises(aotvit.AotVitError) as error:
        aotvit.quantize(SMALL, target, tmp_path / "again.safetensors", threads=1)
    assert "already an int8 checkpoint" in error.value.message


def test_quantize_errors(checkpoint: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.safetensors"
    with pytest.raises(TypeError, match="model must be a str"):
        aotvit.quantize(None, checkpoint, target)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="src must be a path"):
        aotvit.quantize(SMALL, None, target)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dst must be a non-empty path"):
        aotvit.quantize(SMALL, checkpoint, "")
    with pytest.raises(TypeError, match="not a single path"):
        aotvit.quantize(SMALL, checkpoint, target, calibration_images=str(CHELSEA))
    with pytest.raises(ValueError, match="threads"):
        aotvit.quantize(SMALL, checkpoint, target, threads=-2)
    cases = [
        (("resnet-50", checkpoint, target), aotvit.Status.INVALID_ARGUMENT, "unknown model 'resnet-50'"),
        ((SMALL, tmp_path / "missing.safetensors", target), aotvit.Status.IO_ERROR, "missing.safetensors"),
        ((SMALL, checkpoint, tmp_path), aotvit.Status.INVALID_ARGUMENT, "is a folder"),
        ((SMALL, checkpoint, tmp_path / "no" / "x.safetensors"), aotvit.Status.IO_ERROR, "does not exist"),
    ]
    for args, status, part in cases:
        with pytest.raises(aotvit.AotVitError) as error:
            aotvit.quantize(*args, threads=1)
        assert error.value.status == status and error.value.is_input_error, error.value
        assert part in error.value.message
    assert not target.exists()
