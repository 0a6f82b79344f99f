"""Weights as a file, a folder and a repo id in the Hugging Face cache: all give the synthetic model's outputs."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import aotvit
from conftest import CHELSEA, MOBILEVIT, ROOT, SMALL

CONFIG = ROOT / "src" / "Graphs" / SMALL / "config.json"


@pytest.fixture(scope="module")
def checkpoint(reference_dir: Path) -> Path:
    """The synthetic (seed 0) MobileViT-XXS checkpoint written by samples/csharp make-weights (python_check.sh)."""
    path = reference_dir / f"{SMALL}.safetensors"
    if not path.is_file():
        pytest.fail(f"{path} missing: run tools/python_check.sh (it writes it)")
    return path


def test_weights_file_and_folder(mobilevit: aotvit.Model, checkpoint: Path, tmp_path: Path) -> None:
    expected = mobilevit(CHELSEA).logits.tobytes()
    with aotvit.Model(SMALL, checkpoint, threads=1) as model:
        assert model(CHELSEA).logits.tobytes() == expected
    folder = tmp_path / "mobilevit-xx-small"
    folder.mkdir()
    shutil.copy(checkpoint, folder / "model.safetensors")
    shutil.copy(CONFIG, folder / "config.json")
    with aotvit.Model(SMALL, folder, threads=1) as model:
        assert model(CHELSEA).logits.tobytes() == expected
    with aotvit.Model(SMALL, str(folder), threads=1) as model:
        assert model(CHELSEA).logits.tobytes() == expected


def test_weights_folder_name_not_utf8(mobilevit: aotvit.Model, checkpoint: Path, tmp_path: Path) -> None:
    # A Latin-1 folder name: os.fsencode gives the library its bytes, which it resolves and reads as they are.
    folder = os.fsdecode(os.fsencode(str(tmp_path)) + b"/w\xe9")
    os.mkdir(folder)
    shutil.copy(checkpoint, os.path.join(folder, "model.safetensors"))
    with aotvit.Model(SMALL, weights=folder, threads=1) as model:
        assert model(CHELSEA).logits.tobytes() == mobilevit(CHELSEA).logits.tobytes()


def test_folder_of_another_model(checkpoint: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(checkpoint, folder / "model.safetensors")
    shutil.copy(ROOT / "src" / "Graphs" / MOBILEVIT / "config.json", folder / "config.json")
    with pytest.raises(aotvit.AotVitError) as error:
        aotvit.Model(SMALL, folder)
    assert error.value.status == aotvit.Status.BAD_CHECKPOINT


def test_checkpoint_of_another_model(checkpoint: Path) -> None:
    with pytest.raises(aotvit.AotVitError) as error:
        aotvit.Model(MOBILEVIT, checkpoint)
    assert error.value.status == aotvit.Status.BAD_CHECKPOINT


def test_repo_id_from_hf_cache(mobilevit: aotvit.Model, checkpoint: Path, tmp_path: Path) -> None:
    # The hub cache layout: models--org--name/{refs/main, snapshots/<commit>/files}.
    repo = tmp_path / "hub" / "models--apple--mobilevit-xx-small"
    snapshot = repo / "snapshots" / "0123456789abcdef0123456789abcdef01234567"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(snapshot.name)
    shutil.copy(checkpoint, snapshot / "model.safetensors")
    shutil.copy(CONFIG, snapshot / "config.json")
    # A new process with HF_HUB_CACHE set from the start (the library reads the environment when it needs it).
    code = ("import aotvit, sys\n"
            "with aotvit.Model.from_pretrained('apple/mobilevit-xx-small', threads=1) as m:\n"
            f"    sys.stdout.buffer.write(m({str(CHELSEA)!r}).logits.tobytes())\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=300,
                            env={**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub")})
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == mobilevit(CHELSEA).logits.tobytes()
