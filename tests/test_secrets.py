"""Secrets stay secret: client keys hashed, provider keys encrypted, neither printed or logged."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import openai
import pytest

from lowart.store import SecretBox, SecretBoxError

PROVIDER_KEY = "sk-provider-TOPSECRET-0123456789"


def _database_bytes(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp_path.glob("lowart.db*"))


def test_keys_never_stored_logged_or_returned_in_clear(gateway, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    fake = gateway.extra["fake"]
    gateway.add_model(
        "secretive", "openai", base_url=fake.base_url, upstream_model="echo", api_key=PROVIDER_KEY
    )
    gateway.add_model(
        "secretive-broken",
        "openai",
        base_url=fake.base_url,
        upstream_model="fail-401",
        api_key=PROVIDER_KEY,
    )
    client_key = gateway.create_key("client")
    api = openai.OpenAI(base_url=gateway.openai_base_url, api_key=client_key, max_retries=0)
    api.chat.completions.create(model="secretive", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.APIStatusError) as info:
        api.chat.completions.create(
            model="secretive-broken", messages=[{"role": "user", "content": "x"}]
        )
    assert PROVIDER_KEY not in str(info.value.body)
    assert fake.headers[0]["Authorization"] == f"Bearer {PROVIDER_KEY}"  # it does reach the vendor
    gateway.wait_for_records(2)

    listing = gateway.run(gateway.runtime.admin.list_models())
    assert PROVIDER_KEY not in repr(listing)
    assert PROVIDER_KEY not in repr(gateway.runtime.models.routes())
    stored = _database_bytes(tmp_path)
    assert PROVIDER_KEY.encode() not in stored
    assert client_key.encode() not in stored
    assert gateway.admin_key.encode() not in stored
    logged = caplog.text
    assert PROVIDER_KEY not in logged and client_key not in logged


def test_secret_box_round_trip_and_tamper_detection(tmp_path):
    box = SecretBox.from_settings(None, tmp_path / "k" / "lowart.key")
    assert stat.S_IMODE(os.stat(tmp_path / "k" / "lowart.key").st_mode) == 0o600
    token = box.encrypt(PROVIDER_KEY)
    assert PROVIDER_KEY not in token
    assert box.encrypt(PROVIDER_KEY) != token  # fresh nonce each time
    again = SecretBox.from_settings(None, tmp_path / "k" / "lowart.key")
    assert again.decrypt(token) == PROVIDER_KEY
    with pytest.raises(SecretBoxError):
        SecretBox.from_settings("other-master", tmp_path / "unused").decrypt(token)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(SecretBoxError):
        again.decrypt(tampered)
    assert "hidden" in repr(box)
