"""Shared fixtures. The suite tests the *installed* package: tools/python_check.sh installs the wheel into a fresh
venv and runs pytest with that venv's interpreter; test_installed_package_is_used checks that."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

import aotvit

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "tests" / "AotVit.Tests" / "data" / "images"
CHELSEA = IMAGES / "chelsea.png"  # 451 wide, 300 high: a non-square image catches swapped width/height
VIT = "vit-base-patch32-224-in21k"
MOBILEVIT = "mobilevit-small"  # the model of the C# reference dumps
SMALL = "mobilevit-xx-small"  # the cheapest classifier (0.3 GFLOP): most tests use it, to keep CI time down


@pytest.fixture(scope="session")
def mobilevit_s() -> Iterator[aotvit.Model]:
    """MobileViT-S with the synthetic checkpoint (seed 0), as the C# reference dumps were made."""
    with aotvit.Model(MOBILEVIT) as model:
        yield model


@pytest.fixture(scope="session")
def mobilevit() -> Iterator[aotvit.Model]:
    """MobileViT-XXS, synthetic checkpoint, one thread (the machine's cores are shared with the rest of CI)."""
    with aotvit.Model(SMALL, threads=1) as model:
        yield model


@pytest.fixture(scope="session")
def vit() -> Iterator[aotvit.Model]:
    """ViT-B/32 with the synthetic checkpoint (seed 0); building it takes seconds, so once per session."""
    with aotvit.Model(VIT) as model:
        yield model


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """Outputs of the managed C# API on chelsea.png (synthetic weights), written by tools/native_check.sh or
    tools/python_check.sh (samples/csharp --dump): managed.cls.f32, managed.emb.f32."""
    folder = Path(os.environ.get("AOTVIT_REFERENCE_DIR", ROOT / "artifacts" / "native-check"))
    if not (folder / "managed.cls.f32").is_file() or not (folder / "managed.emb.f32").is_file():
        pytest.fail(f"no C# reference outputs in {folder}: run tools/python_check.sh (it makes them)")
    return folder


def read_f32(path: Path) -> np.ndarray:
    return np.fromfile(path, dtype=np.float32)
