"""The built wheel carries its migrations: a fresh environment with only the wheel
installed (no source tree anywhere on its path) brings a new database to head."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from lowart.store._engine import shipped_heads

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


def _build_wheel(tmp_path: Path, env: dict[str, str]) -> Path:
    # Build from a copy: an in-tree setuptools build leaves build/ and *.egg-info behind.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("lowart", "alembic"):
        shutil.copytree(ROOT / name, source / name, ignore=skip)
    dist = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    build = ["wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", dist, source]
    _run([*pip, *build], cwd=tmp_path, env=env)
    (wheel,) = dist.glob("lowart-*.whl")
    return wheel


def test_the_installed_wheel_migrates_a_new_database(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LOWART_"))}
    env["PIP_NO_INDEX"] = "1"
    wheel = _build_wheel(tmp_path, env)
    names = zipfile.ZipFile(wheel).namelist()
    assert "lowart/_migrations/env.py" in names
    assert "lowart/_migrations/script.py.mako" in names
    assert not any(n.startswith(("alembic/", "lowart/store/migrations")) for n in names)

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path, env=env)
    python = venv / "bin" / "python"
    # The dependencies come from this test's own environment through a .pth line (the
    # directories only: the .pth files in them, such as an editable lowart, are not run).
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    fresh_site = Path(_run([python, "-c", purelib], cwd=tmp_path, env=env).strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (fresh_site / "zz_dev_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    # The dev environment's pip installs into the interpreter that runs it: the fresh one.
    install = ["install", "--no-deps", "--no-index", "--ignore-installed", wheel]
    _run([python, "-m", "pip", "--disable-pip-version-check", *install], cwd=tmp_path, env=env)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run([python, "-c", "import lowart; print(lowart.__file__)"], cwd=elsewhere, env=env)
    assert Path(where.strip()).is_relative_to(venv)

    database = tmp_path / "fresh.db"
    env["LOWART_DATABASE_URL"] = f"sqlite+aiosqlite:///{database}"
    env["LOWART_SECRET_KEY_FILE"] = str(tmp_path / "fresh.key")
    out = _run([venv / "bin" / "lowart", "db", "upgrade"], cwd=elsewhere, env=env)
    assert "latest revision" in out
    with sqlite3.connect(database) as conn:
        versions = {row[0] for row in conn.execute("select version_num from alembic_version")}
        tables = {row[0] for row in conn.execute("select name from sqlite_master")}
    assert versions == shipped_heads()
    assert {"models", "api_keys", "usage_records", "image_jobs", "model_fallbacks"} <= tables
    assert list(elsewhere.iterdir()) == []  # nothing written next to the caller
