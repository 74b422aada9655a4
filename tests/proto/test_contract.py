"""The proto contract lints clean with buf, and the committed generated code is fresh."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools.gen_proto import ROOT, TARGETS, generate


def _buf() -> str:
    """buf comes from the `buf-bin` dev dependency, next to this interpreter."""
    beside = Path(sys.executable).parent / "buf"
    found = str(beside) if beside.exists() else shutil.which("buf")
    assert found, "buf is missing: install the dev extra (pip install -e '.[dev]')"
    return found


def test_buf_lint_passes() -> None:
    result = subprocess.run(
        [_buf(), "lint"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_buf_lint_would_catch_a_violation(tmp_path: Path) -> None:
    """Guard against a lint run that passes whatever it is given."""
    shutil.copy(ROOT / "buf.yaml", tmp_path / "buf.yaml")
    bad = tmp_path / "proto" / "lowart" / "v1"
    bad.mkdir(parents=True)
    (bad / "bad.proto").write_text(
        'syntax = "proto3";\npackage lowart.v1;\nenum Colour { RED = 0; }\n'
    )
    result = subprocess.run(
        [_buf(), "lint"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert "ENUM_ZERO_VALUE_SUFFIX" in result.stdout or "UNSPECIFIED" in result.stdout


@pytest.mark.parametrize("folder", sorted(TARGETS))
def test_generated_code_is_fresh(tmp_path: Path, folder: str) -> None:
    generate(tmp_path)
    fresh, committed = tmp_path / folder, ROOT / folder
    fresh_names = sorted(p.name for p in fresh.iterdir() if p.is_file())
    committed_names = sorted(
        p.name for p in committed.iterdir() if p.is_file() and p.suffix in (".py", ".pyi")
    )
    assert fresh_names == committed_names, "stale generated files: run `make proto`"
    _, mismatch, errors = filecmp.cmpfiles(fresh, committed, fresh_names, shallow=False)
    assert not mismatch and not errors, (
        f"{folder} is stale ({mismatch or errors}): run `make proto`"
    )
