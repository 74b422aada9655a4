"""Settings from the environment, including the original project's LISTEN_MODE switch."""

from __future__ import annotations

from lowart.config import Settings


def test_defaults(monkeypatch):
    for name in ("LISTEN_MODE", "LOWART_UDS", "LOWART_PORT", "LOWART_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert (settings.host, settings.port, settings.uds) == ("127.0.0.1", 3000, None)
    assert settings.database_url == "sqlite+aiosqlite:///./lowart.db"


def test_listen_modes(monkeypatch):
    monkeypatch.delenv("LOWART_UDS", raising=False)
    monkeypatch.setenv("LISTEN_MODE", "UDS")
    assert (Settings.from_env().port, Settings.from_env().uds) == (None, "./lowart.sock")
    monkeypatch.setenv("LISTEN_MODE", "BOTH")
    assert (Settings.from_env().port, Settings.from_env().uds) == (3000, "./lowart.sock")
    monkeypatch.setenv("LOWART_UDS", "/run/x.sock")
    assert Settings.from_env().uds == "/run/x.sock"


def test_flags_override_environment(monkeypatch):
    monkeypatch.setenv("LOWART_PORT", "4000")
    monkeypatch.setenv("LOWART_HOST", "0.0.0.0")
    settings = Settings.from_env(port=5000, host=None)
    assert (settings.host, settings.port) == ("0.0.0.0", 5000)


def test_secret_is_not_in_repr(monkeypatch):
    monkeypatch.setenv("LOWART_SECRET_KEY", "hunter2-master")
    assert "hunter2" not in repr(Settings.from_env())


def test_malformed_http_is_logged_as_one_line_without_traceback():
    import logging

    from aiohttp.http_exceptions import BadHttpMessage

    from lowart._logging import _NoProtocolTracebacks

    try:
        raise BadHttpMessage("Duplicate 'Content-Type' header found.")
    except BadHttpMessage:
        import sys

        record = logging.LogRecord(
            "aiohttp.server",
            logging.ERROR,
            __file__,
            1,
            "Error handling request",
            (),
            sys.exc_info(),
        )
    assert _NoProtocolTracebacks().filter(record)
    assert record.exc_info is None and record.levelname == "WARNING"
    assert "Duplicate 'Content-Type'" in record.getMessage()


async def test_buffered_access_lines_are_written_together_and_flushed():
    import asyncio
    import io

    from lowart._logging import _BufferedLines

    stream = io.StringIO()
    sink = _BufferedLines(stream)
    sink.write('{"a":1}')
    sink.write('{"a":2}')
    assert stream.getvalue() == ""  # held for one shared write
    await asyncio.sleep(0.1)
    assert stream.getvalue() == '{"a":1}\n{"a":2}\n'
    sink.write('{"a":3}')
    sink.flush()  # what shutdown does
    assert stream.getvalue().endswith('{"a":3}\n')
