"""The dashboard's server side over plain HTTP: sessions (cookie + CSRF token), the
security headers, and the admin and self-service endpoints its pages call."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import time

import aiohttp
import openai
import orjson
import pytest
from yarl import URL

from lowart.frontends.http._sessions import SessionStore
from tests.support.servers import LoopThread, start_gateway, stop_gateway
from tests.support.servers import test_settings as settings_in


class Browserish:
    """An HTTP client that keeps cookies for 127.0.0.1 (as a browser does) and sends
    the CSRF token once it has one."""

    def __init__(self, gateway):
        self.gateway = gateway
        self.csrf: str | None = None
        self.origin = gateway.base_url

    async def __aenter__(self):
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        return self

    async def __aexit__(self, *exc):
        await self.session.close()

    async def call(self, method, path, json=None, csrf=True, headers=None):
        sent = {"Origin": self.origin}
        if csrf and self.csrf:
            sent["X-CSRF-Token"] = self.csrf
        sent.update(headers or {})
        async with self.session.request(
            method, self.gateway.base_url + path, json=json, headers=sent
        ) as response:
            body = await response.read()
            return response, body

    async def sign_in(self, key):
        response, body = await self.call("POST", "/ui/session", json={"key": key})
        assert response.status == 201, body
        self.csrf = (await _json(body))["csrf"]
        return response

    def cookie(self):
        return self.session.cookie_jar.filter_cookies(URL(self.gateway.base_url)).get(
            "lowart_session"
        )


async def _json(body):
    return orjson.loads(body)


def _chat(gateway, key, model="mock", stream=False):
    client = openai.OpenAI(api_key=key, base_url=gateway.openai_base_url, max_retries=0)
    return client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hi"}], stream=stream
    )


async def test_sign_in_sets_a_strict_httponly_cookie_and_never_echoes_the_key(gateway, caplog):
    caplog.set_level(logging.DEBUG)
    async with Browserish(gateway) as b:
        response = await b.sign_in(gateway.admin_key)
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # plain HTTP on loopback; Secure when served over TLS
        assert "Max-Age=43200" in cookie
        assert gateway.admin_key not in cookie
        assert response.headers["Cache-Control"] == "no-store"
        response, body = await b.call("GET", "/ui/session")
        info = await _json(body)
        assert info == {"signed_in": True, "name": "test-admin", "admin": True, "csrf": b.csrf}
        assert gateway.admin_key.encode() not in body
        assert (await b.call("GET", "/admin/keys"))[0].status == 200
    assert "/ui/session" in caplog.text  # the access log saw the sign-in...
    assert gateway.admin_key not in caplog.text  # ...but never the key
    assert b.csrf not in caplog.text


async def test_the_session_needs_its_csrf_token_and_origin(gateway):
    async with Browserish(gateway) as b:
        await b.sign_in(gateway.admin_key)
        assert (await b.call("GET", "/admin/keys"))[0].status == 200
        response, body = await b.call("GET", "/admin/keys", csrf=False)
        assert response.status == 403 and b"CSRF" in body
        response, _ = await b.call("POST", "/admin/keys", json={"name": "x"}, csrf=False)
        assert response.status == 403
        for wrong in ("wrong", "x" * 43, ""):
            response, _ = await b.call("GET", "/admin/keys", headers={"X-CSRF-Token": wrong})
            assert response.status == 403
        response, _ = await b.call("GET", "/admin/keys", headers={"Origin": "http://evil.test"})
        assert response.status == 403
        response, _ = await b.call("GET", "/admin/keys", headers={"Sec-Fetch-Site": "cross-site"})
        assert response.status == 403
        # /v1 accepts the session the same way (the playground), and only that way.
        response, _ = await b.call(
            "POST", "/v1/chat/completions", json={"model": "mock", "messages": []}, csrf=False
        )
        assert response.status == 403
        response, body = await b.call(
            "POST",
            "/v1/chat/completions",
            json={"model": "mock", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert response.status == 200, body
        # Signing in from another site's page is refused too.
        response, _ = await b.call(
            "POST",
            "/ui/session",
            json={"key": gateway.admin_key},
            headers={"Origin": "http://evil.test"},
        )
        assert response.status == 403
    [record] = [r for r in gateway.usage_records() if r["route"] == "mock"]
    assert record["key_name"] == "test-admin"


async def test_a_bearer_key_wins_over_the_cookie(gateway):
    plain = gateway.create_key("plain")
    async with Browserish(gateway) as b:
        await b.sign_in(gateway.admin_key)
        response, _ = await b.call(
            "GET", "/admin/keys", headers={"Authorization": f"Bearer {plain}"}
        )
        assert response.status == 403  # the plain key's answer, not the admin session's
        response, body = await b.call(
            "GET", "/self/account", headers={"Authorization": f"Bearer {plain}"}
        )
        assert response.status == 200 and (await _json(body))["name"] == "plain"


async def test_sign_out_and_revocation_end_the_session(gateway):
    key = gateway.create_key("leaving")
    async with Browserish(gateway) as b:
        await b.sign_in(key)
        assert (await b.call("GET", "/self/account"))[0].status == 200
        assert (
            await b.call(
                "POST",
                "/admin/keys/leaving/revoke",
                headers={"Authorization": f"Bearer {gateway.admin_key}"},
            )
        )[0].status == 200
        response, _ = await b.call("GET", "/self/account")
        assert response.status == 401
        response, body = await b.call("GET", "/ui/session")
        assert (await _json(body)) == {"signed_in": False}
    async with Browserish(gateway) as b:
        await b.sign_in(gateway.admin_key)
        session_id = b.cookie().value
        response, _ = await b.call("DELETE", "/ui/session", csrf=False)
        assert response.status == 403  # signing out needs the token too
        response, _ = await b.call("DELETE", "/ui/session")
        assert response.status == 200
        b.session.cookie_jar.update_cookies(
            {"lowart_session": session_id}, response_url=URL(gateway.base_url)
        )
        assert (await b.call("GET", "/admin/keys"))[0].status == 401


async def test_wrong_keys_cannot_sign_in(gateway):
    async with Browserish(gateway) as b:
        response, _ = await b.call("POST", "/ui/session", json={"key": "la-nope"})
        assert response.status == 401 and b.cookie() is None
        response, _ = await b.call("POST", "/ui/session", json={"nokey": 1})
        assert response.status == 400


async def test_pages_and_errors_under_ui_carry_the_security_headers(gateway):
    async with aiohttp.ClientSession() as session:
        for path, status in (("/ui/", 200), ("/ui/app.js", 200), ("/ui/nope.js", 404)):
            async with session.get(gateway.base_url + path) as response:
                assert response.status == status
                csp = response.headers["Content-Security-Policy"]
                assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
                assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
                assert response.headers["X-Frame-Options"] == "DENY"
                assert response.headers["X-Content-Type-Options"] == "nosniff"
                assert response.headers["Referrer-Policy"] == "no-referrer"
        async with session.get(gateway.base_url + "/ui/app.js") as response:
            etag = response.headers["ETag"]
            assert response.content_type == "text/javascript"
        async with session.get(
            gateway.base_url + "/ui/app.js", headers={"If-None-Match": etag}
        ) as response:
            assert response.status == 304
        async with session.get(gateway.base_url + "/ui", allow_redirects=False) as response:
            assert response.status == 302 and response.headers["Location"] == "/ui/"


def test_the_dashboard_is_served_on_the_unix_socket(tmp_path):
    loop = LoopThread()
    socket = str(tmp_path / "lowart.sock")
    handle = start_gateway(loop, settings_in(tmp_path, uds=socket, port=None))

    async def fetch():
        connector = aiohttp.UnixConnector(path=socket)
        async with aiohttp.ClientSession(connector=connector) as session:
            async with session.get("http://lowart/ui/") as response:
                return response.status, await response.text()

    try:
        status, text = handle.run(fetch())
        assert status == 200 and '<script type="module" src="/ui/app.js">' in text
    finally:
        stop_gateway(handle)
        loop.stop()


def test_sessions_are_bounded_in_count_and_time():
    store = SessionStore(capacity=2, idle=60, lifetime=120)
    first = store.open("k1", "a", admin=False)
    store.open("k2", "b", admin=False)
    store.open("k3", "c", admin=False)
    assert len(store) == 2 and store.get(first.id) is None  # the oldest went
    short = SessionStore(idle=0.01)
    session = short.open("k", "a", admin=True)
    time.sleep(0.02)
    assert short.get(session.id) is None


async def _admin_get(gateway, path, key=None):
    async with aiohttp.ClientSession() as session:
        async with session.get(
            gateway.base_url + path,
            headers={"Authorization": f"Bearer {key or gateway.admin_key}"},
        ) as response:
            return response.status, await response.read()


def test_usage_series_counts_requests_with_percentiles(gateway):
    other = gateway.create_key("other")
    for _ in range(3):
        _chat(gateway, gateway.admin_key)
    _chat(gateway, other)
    status, body = gateway.run(_admin_get(gateway, "/admin/usage/series?since=1h&by=key"))
    assert status == 200
    series = orjson.loads(body)
    by_key = {s["group"]: s["totals"] for s in series["series"]}
    assert by_key["test-admin"]["requests"] == 3 and by_key["other"]["requests"] == 1
    assert by_key["test-admin"]["total_tokens"] > 0
    assert by_key["test-admin"]["p50_latency_ms"] <= by_key["test-admin"]["p95_latency_ms"]
    assert series["step"] == 60 and not series["truncated"]
    points = [p for s in series["series"] for p in s["points"]]
    assert sum(p["requests"] for p in points) == 4
    # Only its own rows for a non-admin key, through /self; /admin refuses it.
    status, body = gateway.run(_admin_get(gateway, "/self/usage/series?since=1h", key=other))
    assert status == 200
    [mine] = orjson.loads(body)["series"]
    assert mine["totals"]["requests"] == 1
    assert gateway.run(_admin_get(gateway, "/admin/usage/series", key=other))[0] == 403
    # Bad input is a clear 400.
    for query in ("by=colour", "step=1&since=7d", "since=yesterday", "since=1h&until=2h"):
        status, body = gateway.run(_admin_get(gateway, "/admin/usage/series?" + query))
        assert status == 400, query
        assert orjson.loads(body)["error"]["type"] == "invalid_request_error"


def test_usage_search_filters_pages_and_exports(gateway):
    other = gateway.create_key("other")
    for _ in range(3):
        _chat(gateway, other)
    _chat(gateway, gateway.admin_key)
    status, body = gateway.run(_admin_get(gateway, "/admin/usage/search?key=other&limit=2"))
    page = orjson.loads(body)
    assert status == 200 and len(page["data"]) == 2
    assert {r["key_name"] for r in page["data"]} == {"other"}
    assert page["data"][0]["created_at"].endswith("+00:00")
    status, body = gateway.run(
        _admin_get(gateway, f"/admin/usage/search?key=other&limit=2&before={page['next_before']}")
    )
    rest = orjson.loads(body)
    assert len(rest["data"]) == 1 and rest["next_before"] is None
    assert rest["data"][0]["id"] < page["data"][-1]["id"]
    status, body = gateway.run(_admin_get(gateway, "/admin/usage/export.csv?key=other"))
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert status == 200 and len(rows) == 3 and {r["key_name"] for r in rows} == {"other"}
    # A non-admin key pages through its own rows only.
    status, body = gateway.run(_admin_get(gateway, "/self/usage/records?key=test-admin", key=other))
    assert status == 200 and {r["key_name"] for r in orjson.loads(body)["data"]} == {"other"}
    status, body = gateway.run(_admin_get(gateway, "/self/usage/export.csv", key=other))
    assert len(list(csv.DictReader(io.StringIO(body.decode())))) == 3
    assert gateway.run(_admin_get(gateway, "/admin/usage/search", key=other))[0] == 403
    assert gateway.run(_admin_get(gateway, "/admin/usage/search?limit=0"))[0] == 400


def test_self_account_shows_limits_quota_and_budget(gateway):
    key = gateway.create_key("me", quota=1000, quota_period="day", rpm=5, budget="2.5")
    _chat(gateway, key)
    status, body = gateway.run(_admin_get(gateway, "/self/account", key=key))
    me = orjson.loads(body)
    assert status == 200 and me["name"] == "me" and me["rpm"] == 5
    assert me["quota_tokens"] == 1000 and 0 < me["quota_used"] <= 1000
    assert 0 < me["quota_resets_in"] <= 86400
    assert me["budget"] == "2.5" and me["spent"] is not None
    assert key not in body.decode()


def test_script_dry_run_shows_results_or_the_error(gateway):
    async def post(body):
        async with aiohttp.ClientSession() as session:
            async with session.post(
                gateway.base_url + "/admin/scripts/dry-run",
                json=body,
                headers={"Authorization": f"Bearer {gateway.admin_key}"},
            ) as response:
                return response.status, orjson.loads(await response.read())

    script = "function request(p, ctx) p.temperature = 0 return p end"
    status, body = gateway.run(post({"script": script}))
    assert status == 200 and body["ok"]
    [result] = body["results"]
    assert result["phase"] == "request" and result["output"]["temperature"] == 0
    assert result["input"]["temperature"] == 0.5
    status, body = gateway.run(post({"script": "function chunk(e, ctx) return 1 end"}))
    assert status == 400 and body["error"]["code"] == "invalid_script"
    status, body = gateway.run(post({"script": script, "vendor": "nope"}))
    assert status == 400 and body["error"]["param"] == "vendor"
    status, _ = gateway.run(post({"script": "function request(p, ctx) while true do end end"}))
    assert status == 400  # the time limit holds in a dry run too


def test_live_counts_open_streams(gateway):
    gateway.add_model("slow", "mock", options={"delay": 0.3, "reply": "a b c d e f"})
    client = openai.AsyncOpenAI(
        api_key=gateway.admin_key, base_url=gateway.openai_base_url, max_retries=0
    )

    async def during_a_stream():
        stream = await client.chat.completions.create(
            model="slow", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        await anext(aiter(stream))
        status, body = await _admin_get(gateway, "/admin/live")
        await stream.close()
        await asyncio.sleep(0.1)
        _, after = await _admin_get(gateway, "/admin/live")
        return status, orjson.loads(body), orjson.loads(after)

    status, live, after = gateway.run(during_a_stream())
    assert status == 200 and live["open_streams"] == 1 and live["in_flight"] >= 1
    assert after["open_streams"] == 0
    assert {c["name"] for c in live["circuits"]} >= {"mock", "slow"}
    assert all(c["circuit"] == "closed" for c in live["circuits"])


@pytest.mark.parametrize("path", ["/admin/live", "/admin/usage/export.csv"])
def test_new_admin_endpoints_refuse_non_admin_keys(gateway, path):
    key = gateway.create_key("plain")
    assert gateway.run(_admin_get(gateway, path, key=key))[0] == 403
    assert gateway.run(_admin_get(gateway, path, key="la-wrong"))[0] == 401
