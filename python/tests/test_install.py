"""The wheel installs offline into a fresh virtual environment and works there."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import CHELSEA


@pytest.fixture(scope="module")
def wheel() -> Path:
    path = os.environ.get("AOTVIT_WHEEL")
    if not path:
        pytest.fail("AOTVIT_WHEEL is not set: run tools/python_check.sh (it builds the wheel and sets it)")
    return Path(path)


def test_wheel_tags_and_contents(wheel: Path) -> None:
    # py3-none-manylinux_2_N_x86_64: any CPython 3, no Python ABI, glibc >= 2.N (from the library's symbols).
    name, version, python, abi, platform = wheel.stem.split("-")
    assert (name, python, abi) == ("aotvit", "py3", "none")
    assert platform.startswith("manylinux_2_") and platform.endswith("_x86_64")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        wheel_file = z.read(f"aotvit-{version}.dist-info/WHEEL").decode()
    assert "Root-Is-Purelib: false" in wheel_file and f"Tag: py3-none-{platform}" in wheel_file
    assert {"aotvit/__init__.py", "aotvit/_native.py", "aotvit/dask.py", "aotvit/py.typed",
            "aotvit/_lib/libaotvit-x86-64-v4.so", "aotvit/include/aotvit.h"} <= names


def test_fresh_venv_install(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # The Debian interpreter (it has the venv module and the system numpy the package needs).
    base = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
    subprocess.run([base, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--disable-pip-version-check",
                    str(wheel)], check=True, timeout=300)
    code = ("import aotvit, sys\n"
            "with aotvit.Model('mobilevit-xx-small', threads=1) as m:\n"
            f"    out = m({str(CHELSEA)!r})\n"
            "    label = m.top_k(out, 1)[0][0].label\n"
            "print(aotvit.__file__, aotvit.library_path(), out.logits.shape, label, sep='\\n')\n")
    result = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    module, library, shape, label = result.stdout.splitlines()
    assert module.startswith(str(venv)) and library.startswith(str(venv))
    assert shape == "(1, 1000)" and label
