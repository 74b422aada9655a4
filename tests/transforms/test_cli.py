"""`lowart scripts test` and `lowart models ... --script`, run as the CLI entry point."""

from __future__ import annotations

import json

import pytest

from lowart.cli import main as lowart_cli

SCRIPT = """
function request(p, ctx)
  table.insert(p.messages, 1, {role = "system", content = "Be brief."})
  return p
end
function chunk(e)
  if e.choices[1] and e.choices[1].delta.content == "drop me" then return nil end
  return e
end
"""


@pytest.fixture
def files(tmp_path):
    (tmp_path / "ok.lua").write_text(SCRIPT)
    (tmp_path / "bad.lua").write_text("function request(p)\n  local x\n  return x.y\nend\n")
    (tmp_path / "request.json").write_text(
        json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    )
    (tmp_path / "chunk.json").write_text(
        json.dumps({"choices": [{"index": 0, "delta": {"content": "drop me"}}]})
    )
    return tmp_path


def test_scripts_test_prints_the_transformed_payload(files, capsys):
    code = lowart_cli(
        ["scripts", "test", str(files / "ok.lua"), "--payload", str(files / "request.json")]
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["messages"][0] == {"role": "system", "content": "Be brief."}


def test_scripts_test_reports_a_dropped_chunk(files, capsys):
    args = ["scripts", "test", str(files / "ok.lua"), "--payload", str(files / "chunk.json")]
    assert lowart_cli([*args, "--phase", "chunk"]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == "null" and "dropped" in out.err


def test_scripts_test_shows_the_lua_error_and_line(files, capsys):
    args = ["scripts", "test", str(files / "bad.lua"), "--payload", str(files / "request.json")]
    assert lowart_cli(args) == 1
    err = capsys.readouterr().err
    assert "script:3: attempt to index a nil value (local 'x')" in err
    assert "Traceback" not in err


def test_models_script_upload_is_validated(files, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOWART_SECRET_KEY", "test-secret")
    db = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    base = ["--db", db]
    assert lowart_cli(["db", "upgrade", *base]) == 0
    assert (
        lowart_cli(
            ["models", "add", "m", "--vendor", "mock", "--script", str(files / "ok.lua"), *base]
        )
        == 0
    )
    assert lowart_cli(["models", "update", "m", "--script", str(files / "bad.lua"), *base]) == 1
    assert "The script was refused: request: script:3:" in capsys.readouterr().err
    assert lowart_cli(["models", "update", "m", "--no-script", *base]) == 0
    assert lowart_cli(["models", "update", "m", "--script", str(files / "missing.lua"), *base]) == 1
    assert "cannot read" in capsys.readouterr().err
