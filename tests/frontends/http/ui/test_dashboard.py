"""The dashboard in a real headless Chromium: sign-in, the pages, and what they show
after real traffic from the clients users have."""

from __future__ import annotations

import csv
import json
import time

import aiohttp
import openai
import pytest

from tests.frontends.http.ui.conftest import screenshot, show, sign_in
from tests.support.chromium import Page

CSP_PARTS = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "frame-ancestors 'none'",
)


def _client(gateway, key):
    return openai.OpenAI(api_key=key, base_url=gateway.openai_base_url, max_retries=0)


def _chat(gateway, key, model="mock", text="hello there", stream=False):
    client = _client(gateway, key)
    if stream:
        with client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": text}], stream=True
        ) as chunks:
            return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return (
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": text}])
        .choices[0]
        .message.content
    )


def _no_console_errors(page: Page, allow_network: bool = False) -> None:
    assert page.messages.errors(allow_network=allow_network) == []


def test_sign_in_uses_an_httponly_strict_cookie_and_sign_out_ends_it(ui, page):
    sign_in(page, ui, ui.admin_key)
    headers = page.messages.responses[ui.base_url + "/ui/"]
    for part in CSP_PARTS:
        assert part in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    [cookie] = page.cookies(ui.base_url)
    assert cookie["name"] == "lowart_session"
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/"
    assert ui.admin_key not in cookie["value"]
    assert page.eval("document.cookie") == ""  # scripts cannot read it
    assert ui.admin_key not in page.eval("document.documentElement.outerHTML")
    assert page.text("#who") == "test-admin (admin)"
    page.wait_for("#stat-requests")
    # The session alone (no CSRF header) cannot act, even from the page itself.
    status = page.eval(
        "fetch('/admin/keys', {method: 'POST', headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify({name: 'sneaky'})}).then(r => r.status)"
    )
    assert status == 403
    session_id = cookie["value"]
    page.click("#signout")
    page.wait("!document.getElementById('signin').hidden", what="the sign-in form again")
    assert page.cookies(ui.base_url) == []
    status, _ = ui.run(_with_cookie(ui, session_id, "GET", "/admin/keys", csrf="anything"))
    assert status == 401
    _no_console_errors(page, allow_network=True)  # the refused fetch above logs a 403


async def _with_cookie(gateway, session_id, method, path, csrf=None, json=None):
    jar = aiohttp.CookieJar(unsafe=True)
    jar.update_cookies(
        {"lowart_session": session_id}, response_url=aiohttp.client.URL(gateway.base_url)
    )
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.request(
            method, gateway.base_url + path, headers=headers, json=json
        ) as r:
            return r.status, await r.json(content_type=None)


def test_a_wrong_key_is_refused_on_the_form(ui, page):
    page.goto(ui.base_url + "/ui/")
    page.wait("!document.getElementById('signin').hidden")
    # Keyboard first: Tab reaches the skip link, the key field is focused and labelled.
    assert page.eval("document.activeElement.id") == "signin-key"
    assert page.eval("document.querySelector('label[for=signin-key]').textContent") == "API key"
    page.fill("#signin-key", "la-not-a-key")
    page.press("Enter")
    page.wait("!document.getElementById('error').hidden", what="the error banner")
    assert "key" in page.text("#error").lower()
    assert page.cookies(ui.base_url) == []
    _no_console_errors(page, allow_network=True)


def _stat(page: Page, name: str) -> str:
    return page.eval(f"document.querySelector('#stat-{name} .value').textContent")


def test_overview_shows_real_traffic_and_updates_without_a_reload(ui, page):
    sign_in(page, ui, ui.admin_key)
    show(page, "overview", "#stat-requests")
    # A fresh load (signed in): the page and its first data within a bound on loopback.
    page.goto(ui.base_url + "/ui/#/overview")
    page.wait_for("#stat-requests")
    loaded = page.eval("performance.getEntriesByType('navigation')[0].loadEventEnd")
    data = page.eval("performance.now()")
    print(f"overview: load event {loaded:.0f} ms, first numbers by {data:.0f} ms")
    assert loaded < 2000  # ~30-60 ms here when the machine is idle (README)
    before = int(_stat(page, "requests").replace(",", ""))
    page.eval("window.__marker = 'same page'")
    for _ in range(3):
        _chat(ui, ui.admin_key)
    assert _chat(ui, ui.admin_key, stream=True)
    # The next poll (every 5 s) shows them: no reload (the marker survives).
    page.wait(
        f"Number(document.querySelector('#stat-requests .value').textContent.replace(/,/g, ''))"
        f" >= {before + 4}",
        timeout=12,
        what="the overview to count the new requests",
    )
    assert page.eval("window.__marker") == "same page"
    assert int(_stat(page, "tokens").replace(",", "")) > 0
    assert _stat(page, "p50").endswith("ms") and _stat(page, "ttft").count("ms") == 2
    assert int(page.eval("document.getElementById('chart-requests').dataset.points")) >= 1
    assert (
        page.eval(
            "document.querySelectorAll("
            "'#chart-requests svg path, #chart-requests svg circle').length"
        )
        >= 1
    )
    circuits = page.eval("[...document.querySelectorAll('#live tbody tr')].map(r => r.textContent)")
    assert any("mock" in row and "closed" in row for row in circuits)
    # Split by model: one line per model in the legend.
    page.choose("select[name=by]", "model")
    page.wait(
        "[...document.querySelectorAll('#chart-requests .legend li')]"
        ".some(li => li.textContent === 'mock')"
    )
    screenshot(page, "overview")
    _no_console_errors(page)


def test_create_a_key_shown_once_set_limits_and_revoke_it(ui, page):
    sign_in(page, ui, ui.admin_key)
    show(page, "keys", "#key-create")
    page.fill("#key-create input[name=name]", "ui-made")
    page.fill("#key-create input[name=rpm]", "100")
    page.fill("#key-create input[name=models]", "mock")
    page.fill("#key-create input[name=budget]", "5")
    page.choose("#key-create select[name=budget_period]", "month")
    page.click("#key-create button[type=submit]")
    page.wait_for("#new-key")
    key = page.eval("document.getElementById('new-key').value")
    assert key.startswith("la-")
    page.click("#copy-key")
    assert _chat(ui, key)  # the key shown works
    row = "tr[data-key='ui-made']"
    page.wait_for(row)
    assert "100" in page.text(row) and "mock" in page.text(row)
    assert "of 5 / month" in page.text(row)
    screenshot(page, "keys-created")
    # Shown once: after leaving the page it is nowhere on it.
    show(page, "overview", "#stat-requests")
    show(page, "keys", row)
    assert key not in page.eval("document.documentElement.outerHTML")
    # Limits: edit in place.
    page.click(f"{row} td.actions button:nth-of-type(2)")
    page.wait_for("form.edit")
    page.fill("form.edit input[name=tpm]", "5000")
    page.click("form.edit button[type=submit]")
    page.wait(f"document.querySelector(\"{row}\").textContent.includes('5000')", what="the new TPM")
    # Per-key usage chart.
    page.click(f"{row} td.actions button:nth-of-type(1)")
    page.wait("document.querySelector('#key-usage #chart-requests')?.dataset.points >= 1")
    # Revoke (the confirm dialog is accepted): its requests are refused.
    page.click(f"{row} button.danger")
    page.wait(f"document.querySelector(\"{row}\").textContent.includes('revoked')")
    with pytest.raises(openai.AuthenticationError):
        _chat(ui, key)
    _no_console_errors(page)


def _model_row(name: str) -> str:
    return f"tr[data-model='{name}']"


def test_add_edit_and_remove_a_model_with_a_lua_dry_run(ui, page, upstream, tmp_path):
    sign_in(page, ui, ui.admin_key)
    show(page, "models", "#add-model")
    page.click("#add-model")
    page.wait_for("#model-form")
    page.fill("#model-form input[name=name]", "ui-fake")
    page.choose("#model-form select[name=vendor]", "openai")
    page.fill("#model-form input[name=base_url]", upstream.base_url)
    page.fill("#model-form input[name=upstream_model]", "echo")
    page.fill("#model-form input[name=api_key]", "sk-ui-secret")
    # A broken script: the dry run shows the Lua error on the form, nothing is saved.
    broken = tmp_path / "broken.lua"
    broken.write_text("function request(payload, ctx)\n  return nil\nend\n")
    page.upload("#model-form input[name=script_file]", broken)
    page.wait("document.querySelector('#model-form textarea[name=script]').value.includes('nil')")
    page.click("#dry-run")
    page.wait_for("#model-form .field-error")
    assert "must return a table" in page.text("#model-form .field-error")
    page.click("#model-form button[type=submit]")
    page.wait("document.querySelector('#model-form .field-error')?.textContent.includes('refused')")
    assert not page.eval(f'!!document.querySelector("{_model_row("ui-fake")}")')
    screenshot(page, "models-script-error")
    # A working script: its dry-run result is shown, then saved with the model.
    page.fill(
        "#model-form textarea[name=script]",
        "function request(payload, ctx)\n  payload.temperature = 0\n  return payload\nend",
    )
    page.click("#dry-run")
    page.wait_for("#script-dry-run .ok")
    assert "temperature" in page.eval("document.querySelector('#script-dry-run').textContent")
    page.click("#model-form button[type=submit]")
    row = _model_row("ui-fake")
    page.wait_for(row)
    assert "echo" in page.text(row) and "v1" in page.text(row)
    assert "sk-ui-secret" not in page.eval("document.documentElement.outerHTML")
    # It serves: a request reaches the fake upstream through the script.
    assert _chat(ui, ui.admin_key, model="ui-fake", text="ping")
    assert upstream.requests[-1]["temperature"] == 0
    # Edit the weight, disable it.
    page.click(f"{row} td.actions button:nth-of-type(1)")
    page.wait_for("#model-form input[name=weight]")
    page.fill("#model-form input[name=weight]", "3")
    page.click("#model-form button[type=submit]")
    page.wait(f"document.querySelector(\"{row} td.num\")?.textContent === '3'", what="weight 3")
    page.click(f"{row} td.actions button:nth-of-type(2)")
    page.wait(f"document.querySelector(\"{row}\").textContent.includes('Enable')", what="disabled")
    # Remove (the confirm dialog is accepted).
    page.click(f"{row} button.danger")
    page.wait(f'!document.querySelector("{row}")', what="the row to go")
    _no_console_errors(page, allow_network=True)  # the refused script answers 400


def test_a_comfyui_workflow_binding_error_is_shown_on_its_field(ui, page, comfy, tmp_path):
    sign_in(page, ui, ui.admin_key)
    show(page, "models", "#add-model")
    page.click("#add-model")
    page.fill("#model-form input[name=name]", "ui-img")
    page.choose("#model-form select[name=vendor]", "comfyui")
    page.fill("#model-form input[name=base_url]", comfy.base_url)
    page.wait("!document.querySelector('#model-form .comfy').hidden")
    workflow = json.dumps(
        {
            "1": {
                "class_type": "EmptyImage",
                "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0},
            },
            "2": {
                "class_type": "SaveImage",
                "inputs": {"images": ["1", 0], "filename_prefix": "x"},
            },
        }
    )
    upload = tmp_path / "workflow_api.json"
    upload.write_text(workflow)
    page.upload("#model-form input[name=workflow_file]", upload)
    page.wait(
        "document.querySelector('#model-form textarea[name=workflow]').value.includes('Empty')"
    )
    page.fill("#model-form input[name=bind_width]", "1.inputs.wide")
    page.click("#model-form button[type=submit]")
    page.wait_for("#model-form [data-param=bindings] .field-error")
    assert "has no input 'wide'" in page.text("#model-form [data-param=bindings] .field-error")
    page.fill("#model-form input[name=bind_width]", "1.inputs.width")
    page.click("#model-form button[type=submit]")
    page.wait_for(_model_row("ui-img"))
    assert "image" in page.text(_model_row("ui-img"))
    _no_console_errors(page, allow_network=True)


def _alias_row(pattern: str) -> str:
    return f"#aliases tr[data-alias='{pattern}']"


def test_an_alias_and_the_default_route_made_on_the_models_page_route_requests(ui, page):
    sign_in(page, ui, ui.admin_key)
    show(page, "models", "#alias-form")
    # A route's own name cannot be an alias: the API's error is shown on the field.
    page.choose("#alias-form select[name=model]", "mock")
    page.fill("#alias-form input[name=pattern]", "mock-slow")
    page.press("Enter")
    page.wait_for("#alias-form [data-param=pattern] .field-error")
    assert "model's own name" in page.text("#alias-form [data-param=pattern] .field-error")
    assert page.eval("document.activeElement.name") == "pattern"  # focus went to the field
    # `claude-*` -> mock, made with the keyboard, is listed and answers claude-3-haiku.
    page.fill("#alias-form input[name=pattern]", "claude-*")
    page.press("Enter")
    page.wait_for(_alias_row("claude-*"))
    assert page.text(f"{_alias_row('claude-*')} td") == "mock"
    client = _client(ui, ui.admin_key)
    hi = [{"role": "user", "content": "hi"}]
    reply = client.chat.completions.create(model="claude-3-haiku", messages=hi)
    assert reply.model == "mock"
    assert reply.choices[0].message.content == "This is the lowart mock model. You said: hi"
    screenshot(page, "models-aliases")
    page.click(f"{_alias_row('claude-*')} button.danger")
    page.wait(f'!document.querySelector("{_alias_row("claude-*")}")', what="the alias to go")
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="claude-3-haiku", messages=hi)
    # The default route: set (marked in the list), then cleared.
    page.choose("#default-route-form select[name=model]", "mock")
    page.click("#default-route-form button[type=submit]")
    page.wait_for(_alias_row("*"))
    assert "default route" in page.text(_alias_row("*"))
    assert client.chat.completions.create(model="any-name", messages=hi).model == "mock"
    assert page.eval("document.querySelector('#default-route-form select').value") == "mock"
    page.choose("#default-route-form select[name=model]", "")
    page.click("#default-route-form button[type=submit]")
    page.wait(f'!document.querySelector("{_alias_row("*")}")', what="the default route to go")
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="any-name", messages=hi)
    _no_console_errors(page, allow_network=True)  # the refused alias answers 400


def test_usage_explorer_filters_pages_and_exports_csv(ui, page, tmp_path):
    key = ui.create_key("ui-explorer")
    for _ in range(3):
        _chat(ui, key)
    _chat(ui, ui.admin_key)
    sign_in(page, ui, ui.admin_key)
    show(page, "usage", "#usage-filters")
    page.wait_for("#usage-results tbody tr")
    page.fill("#usage-filters input[name=key]", "ui-explorer")
    page.choose("#usage-filters select[name=limit]", "25")
    page.click("#usage-filters button[type=submit]")
    page.wait(
        "[...document.querySelectorAll('#usage-results tbody tr')].length === 3 && "
        "[...document.querySelectorAll('#usage-results tbody tr td:nth-child(2)')]"
        ".every(td => td.textContent === 'ui-explorer')",
        what="only ui-explorer's three records",
    )
    screenshot(page, "usage")
    # Paging: two per page over ui-explorer's three records.
    page.eval("""(() => { const s = document.querySelector('#usage-filters select[name=limit]');
        s.append(new Option('2', '2')); })()""")
    page.choose("#usage-filters select[name=limit]", "2")
    page.click("#usage-filters button[type=submit]")
    page.wait("document.querySelectorAll('#usage-results tbody tr').length === 2")
    first_page = page.eval(
        "[...document.querySelectorAll('#usage-results tbody tr')].map(r => r.dataset.id)"
    )
    page.click("#usage-older")
    page.wait("document.querySelectorAll('#usage-results tbody tr').length === 1")
    last = page.eval("document.querySelector('#usage-results tbody tr').dataset.id")
    assert int(last) < min(int(i) for i in first_page)
    page.click("#usage-newer")
    page.wait("document.querySelectorAll('#usage-results tbody tr').length === 2")
    # CSV of the filtered records, downloaded as a person would.
    page.allow_downloads(tmp_path)
    page.click("#usage-csv")
    target = tmp_path / "usage.csv"
    deadline = time.monotonic() + 10
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    rows = list(csv.DictReader(target.read_text().splitlines()))
    assert len(rows) == 3 and {r["key_name"] for r in rows} == {"ui-explorer"}
    assert all(r["status"] == "ok" and int(r["total_tokens"]) > 0 for r in rows)
    _no_console_errors(page)


def test_playground_streams_a_chat_with_tokens_and_latency(ui, page):
    sign_in(page, ui, ui.admin_key)
    show(page, "playground", "#chat-form")
    page.choose("#chat-form select[name=model]", "mock-slow")
    page.fill("#chat-form textarea[name=message]", "Tell me something")
    page.press("Enter", modifiers=2)  # Ctrl+Enter sends
    # Streaming: the answer grows before it is done.
    page.wait("document.querySelector('#chat-log li.assistant .answer')?.textContent.length > 0")
    partial = page.eval("document.querySelector('#chat-log li.assistant').dataset.done || ''")
    page.wait(
        "document.querySelector('#chat-log li.assistant')?.dataset.done === 'true'", timeout=15
    )
    assert partial == ""  # it showed words before the end
    item = "#chat-log li.assistant"
    assert int(page.eval(f"document.querySelector('{item}').dataset.completionTokens")) > 0
    meta = page.text(f"{item} .meta")
    assert "completion tokens" in meta and "first token" in meta and "total" in meta
    records = ui.wait_for_records(1)
    assert records[-1]["stream"] and records[-1]["route"] == "mock-slow"
    assert page.text(f"{item} .answer") == "one two three four five six seven eight nine ten"
    screenshot(page, "playground-chat")
    _no_console_errors(page)


def test_image_job_shows_progress_lands_in_the_gallery_and_can_be_cancelled(ui, page, comfy):
    sign_in(page, ui, ui.admin_key)
    show(page, "playground", "#image-form")
    comfy.step_delay = 0.15
    try:
        page.choose("#image-form select[name=model]", "img")
        page.choose("#image-form select[name=size]", "64x64")
        page.fill("#image-form input[name=steps]", "8")
        page.fill("#image-form textarea[name=prompt]", "a lighthouse")
        page.click("#image-generate")
        page.wait(
            "[...document.querySelectorAll('#jobs progress')]"
            ".some(p => p.value > 0 && p.value < p.max)",
            timeout=15,
            what="a job part-way through",
        )
        page.wait(
            "[...document.querySelectorAll('#gallery img')]"
            ".some(i => i.complete && i.naturalWidth === 64)",
            timeout=20,
            what="the image in the gallery",
        )
        screenshot(page, "playground-images")
    finally:
        comfy.step_delay = 0.0
    # Cancel a job ComfyUI holds before it starts.
    comfy.pause()
    try:
        page.fill("#image-form textarea[name=prompt]", "never finished")
        page.click("#image-generate")
        cancel = ", ".join(
            f"#jobs tr[data-status={s}] button.danger" for s in ("running", "queued")
        )
        page.wait_for(cancel, timeout=15)
        page.click(cancel)
        page.wait_for("#jobs tr[data-status=cancelled]")
    finally:
        comfy.resume()
    _no_console_errors(page)


def test_a_non_admin_key_sees_only_its_own_data(ui, page):
    key = ui.create_key("ui-user", quota=100_000, quota_period="day")
    _chat(ui, key)
    _chat(ui, key)
    _chat(ui, ui.admin_key)
    sign_in(page, ui, key)
    assert page.text("#who") == "ui-user"
    links = page.eval("[...document.querySelectorAll('#nav a')].map(a => a.textContent)")
    assert "Keys" not in links and "Models" not in links
    show(page, "keys", "h1")
    assert "needs an admin key" in page.text("#page")
    show(page, "usage", "#usage-filters")
    page.wait("document.querySelectorAll('#usage-results tbody tr').length === 2")
    assert not page.eval("!!document.querySelector('#usage-filters input[name=key]')")
    show(page, "account", "#account-limits")
    assert "ui-user" in page.text("#account-limits")
    assert "100,000" in page.text("#account-limits")
    show(page, "overview", "#stat-requests")
    page.wait("document.querySelector('#stat-requests .value').textContent === '2'")
    # The admin API refuses the session of a non-admin key, CSRF token or not.
    status = page.eval(
        "import('/ui/api.js').then(m => m.request('GET', '/admin/keys'))"
        ".then(() => 200, e => e.status)"
    )
    assert status == 403
    _no_console_errors(page, allow_network=True)  # the refused admin call logs a 403


PAGES = ("overview", "models", "keys", "usage", "playground", "account")


def test_every_page_fits_a_phone_width(ui, page):
    page.set_viewport(390, 844, mobile=True)
    sign_in(page, ui, ui.admin_key)
    for name in PAGES:
        show(page, name, "h1")
        page.wait("document.querySelectorAll('#page *').length > 5")
        time.sleep(0.3)  # let the first poll draw
        assert page.eval("document.documentElement.scrollWidth") <= 390, name
        assert screenshot(page, f"phone-{name}") == (390, 844)
    _no_console_errors(page)


def test_a_page_load_fetches_only_its_own_code_and_nothing_blocks_its_first_paint(ui, page):
    sign_in(page, ui, ui.admin_key)
    page._send("Page.navigate", {"url": "about:blank"})  # a new document next, not a hash
    page.wait("location.href === 'about:blank'")
    page.goto(ui.base_url + "/ui/#/overview")
    page.wait_for("#stat-requests")
    fetched = page.eval(
        "performance.getEntriesByType('resource')"
        ".map(r => [new URL(r.name).pathname, r.renderBlockingStatus])"
    )
    paths = [path for path, _ in fetched]
    # The stylesheet is in the page: the document is the only thing the first paint waits for.
    assert [path for path, blocking in fetched if blocking == "blocking"] == []
    assert "/ui/app.css" not in paths
    # The session was asked for once (index.html preloads it; the shell uses that answer).
    assert paths.count("/ui/session") == 1
    assert "/ui/page-overview.js" in paths
    assert not [p for p in paths if p.startswith("/ui/page-") and p != "/ui/page-overview.js"]
    # Another page's code comes when it is first shown.
    show(page, "models", "#add-model")
    assert page.eval(
        "performance.getEntriesByType('resource').some(r => r.name.endsWith('/ui/page-models.js'))"
    )
    _no_console_errors(page)
