"""The dashboard in a real headless Chromium: sign-in, the pages, and what they show
after real traffic from the clients users have."""

from __future__ import annotations

import csv
import json
import re

import aiohttp
import openai
import pytest
from playwright.sync_api import Page, expect

from tests.frontends.http.ui.conftest import screenshot, show, sign_in
from tests.support.chromium import Messages

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


# Conditions for `page.wait_for_function` are written as functions: Playwright
# turns a bare expression into an `eval` in the page, which the dashboard's CSP
# (rightly) refuses.


def _no_console_errors(messages: Messages, allow_network: bool = False) -> None:
    assert messages.errors(allow_network=allow_network) == []


def test_sign_in_uses_an_httponly_strict_cookie_and_sign_out_ends_it(ui, page, messages):
    headers = sign_in(page, ui, ui.admin_key).all_headers()
    for part in CSP_PARTS:
        assert part in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    [cookie] = page.context.cookies(ui.base_url)
    assert cookie["name"] == "lowart_session"
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/"
    assert ui.admin_key not in cookie["value"]
    assert page.evaluate("document.cookie") == ""  # scripts cannot read it
    assert ui.admin_key not in page.content()
    expect(page.locator("#who")).to_have_text("test-admin (admin)")
    expect(page.locator("#stat-requests")).to_be_attached()
    # The session alone (no CSRF header) cannot act, even from the page itself.
    status = page.evaluate(
        "fetch('/admin/keys', {method: 'POST', headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify({name: 'sneaky'})}).then(r => r.status)"
    )
    assert status == 403
    session_id = cookie["value"]
    page.locator("#signout").click()
    expect(page.locator("#signin")).to_be_visible()
    assert page.context.cookies(ui.base_url) == []
    status, _ = ui.run(_with_cookie(ui, session_id, "GET", "/admin/keys", csrf="anything"))
    assert status == 401
    _no_console_errors(messages, allow_network=True)  # the refused fetch above logs a 403


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


def test_a_wrong_key_is_refused_on_the_form(ui, page, messages):
    page.goto(ui.base_url + "/ui/")
    expect(page.locator("#signin")).to_be_visible()
    # Keyboard first: Tab reaches the skip link, the key field is focused and labelled.
    expect(page.locator("#signin-key")).to_be_focused()
    assert page.locator("label[for=signin-key]").text_content() == "API key"
    page.locator("#signin-key").fill("la-not-a-key")
    page.keyboard.press("Enter")
    expect(page.locator("#error")).to_be_visible()
    assert "key" in (page.locator("#error").text_content() or "").lower()
    assert page.context.cookies(ui.base_url) == []
    _no_console_errors(messages, allow_network=True)


def _stat(page: Page, name: str) -> str:
    return page.locator(f"#stat-{name} .value").text_content() or ""


def _text(page: Page, selector: str) -> str:
    """The textContent of the first element `selector` matches, once there is one."""
    element = page.locator(selector).first
    expect(element).to_be_attached()
    return element.text_content() or ""


def test_overview_shows_real_traffic_and_updates_without_a_reload(ui, page, messages):
    sign_in(page, ui, ui.admin_key)
    show(page, "overview", "#stat-requests")
    # A fresh load (signed in): the page and its first data within a bound on loopback.
    page.goto("about:blank")  # a new document next, not a hash change
    page.goto(ui.base_url + "/ui/#/overview")
    expect(page.locator("#stat-requests .value")).to_be_attached()
    loaded = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    data = page.evaluate("performance.now()")
    print(f"overview: load event {loaded:.0f} ms, first numbers by {data:.0f} ms")
    assert loaded < 2000  # ~30-60 ms here when the machine is idle (README)
    before = int(_stat(page, "requests").replace(",", ""))
    page.evaluate("window.__marker = 'same page'")
    for _ in range(3):
        _chat(ui, ui.admin_key)
    assert _chat(ui, ui.admin_key, stream=True)
    # The next poll (every 5 s) shows them: no reload (the marker survives).
    page.wait_for_function(
        "() => Number(document.querySelector('#stat-requests .value')"
        f".textContent.replace(/,/g, '')) >= {before + 4}",
        timeout=12_000,
    )
    assert page.evaluate("window.__marker") == "same page"
    assert int(_stat(page, "tokens").replace(",", "")) > 0
    assert _stat(page, "p50").endswith("ms") and _stat(page, "ttft").count("ms") == 2
    assert int(page.locator("#chart-requests").get_attribute("data-points") or 0) >= 1
    assert page.locator("#chart-requests svg path, #chart-requests svg circle").count() >= 1
    circuits = page.locator("#live tbody tr").all_text_contents()
    assert any("mock" in row and "closed" in row for row in circuits)
    # Split by model: one line per model in the legend.
    page.locator("select[name=by]").select_option("model")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#chart-requests .legend li')]"
        ".some(li => li.textContent === 'mock')"
    )
    screenshot(page, "overview")
    _no_console_errors(messages)


def test_create_a_key_shown_once_set_limits_and_revoke_it(ui, page, messages):
    sign_in(page, ui, ui.admin_key)
    show(page, "keys", "#key-create")
    page.locator("#key-create input[name=name]").fill("ui-made")
    page.locator("#key-create input[name=rpm]").fill("100")
    page.locator("#key-create input[name=models]").fill("mock")
    page.locator("#key-create input[name=budget]").fill("5")
    page.locator("#key-create select[name=budget_period]").select_option("month")
    page.locator("#key-create button[type=submit]").click()
    key = page.locator("#new-key").input_value()
    assert key.startswith("la-")
    page.locator("#copy-key").click()
    assert _chat(ui, key)  # the key shown works
    row = page.locator("tr[data-key='ui-made']")
    expect(row).to_contain_text("100")
    expect(row).to_contain_text("mock")
    expect(row).to_contain_text("of 5 / month")
    screenshot(page, "keys-created")
    # Shown once: after leaving the page it is nowhere on it.
    show(page, "overview", "#stat-requests")
    show(page, "keys", "tr[data-key='ui-made']")
    assert key not in page.content()
    # Limits: edit in place.
    row.locator("td.actions button:nth-of-type(2)").click()
    page.locator("form.edit input[name=tpm]").fill("5000")
    page.locator("form.edit button[type=submit]").click()
    expect(row).to_contain_text("5000")
    # Per-key usage chart.
    row.locator("td.actions button:nth-of-type(1)").click()
    page.wait_for_function(
        "() => document.querySelector('#key-usage #chart-requests')?.dataset.points >= 1"
    )
    # Revoke (the confirm dialog is accepted): its requests are refused.
    row.locator("button.danger").click()
    expect(row).to_contain_text("revoked")
    with pytest.raises(openai.AuthenticationError):
        _chat(ui, key)
    _no_console_errors(messages)


def _model_row(name: str) -> str:
    return f"tr[data-model='{name}']"


def test_add_edit_and_remove_a_model_with_a_lua_dry_run(ui, page, messages, upstream, tmp_path):
    sign_in(page, ui, ui.admin_key)
    show(page, "models", "#add-model")
    page.locator("#add-model").click()
    form = page.locator("#model-form")
    form.locator("input[name=name]").fill("ui-fake")
    form.locator("select[name=vendor]").select_option("openai")
    form.locator("input[name=base_url]").fill(upstream.base_url)
    form.locator("input[name=upstream_model]").fill("echo")
    form.locator("input[name=api_key]").fill("sk-ui-secret")
    # A broken script: the dry run shows the Lua error on the form, nothing is saved.
    broken = tmp_path / "broken.lua"
    broken.write_text("function request(payload, ctx)\n  return nil\nend\n")
    form.locator("input[name=script_file]").set_input_files(broken)
    expect(form.locator("textarea[name=script]")).to_have_value(re.compile("nil"))
    page.locator("#dry-run").click()
    expect(form.locator(".field-error").first).to_contain_text("must return a table")
    form.locator("button[type=submit]").click()
    expect(form.locator(".field-error").first).to_contain_text("refused")
    assert page.locator(_model_row("ui-fake")).count() == 0
    screenshot(page, "models-script-error")
    # A working script: its dry-run result is shown, then saved with the model.
    form.locator("textarea[name=script]").fill(
        "function request(payload, ctx)\n  payload.temperature = 0\n  return payload\nend"
    )
    page.locator("#dry-run").click()
    expect(page.locator("#script-dry-run .ok")).to_be_attached()
    assert "temperature" in (page.locator("#script-dry-run").text_content() or "")
    form.locator("button[type=submit]").click()
    row = page.locator(_model_row("ui-fake"))
    expect(row).to_contain_text("echo")
    expect(row).to_contain_text("v1")
    assert "sk-ui-secret" not in page.content()
    # It serves: a request reaches the fake upstream through the script.
    assert _chat(ui, ui.admin_key, model="ui-fake", text="ping")
    assert upstream.requests[-1]["temperature"] == 0
    # Edit the weight, disable it.
    row.locator("td.actions button:nth-of-type(1)").click()
    form.locator("input[name=weight]").fill("3")
    form.locator("button[type=submit]").click()
    expect(row.locator("td.num").first).to_have_text("3")
    row.locator("td.actions button:nth-of-type(2)").click()
    expect(row).to_contain_text("Enable")
    # Remove (the confirm dialog is accepted).
    row.locator("button.danger").click()
    expect(row).to_have_count(0)
    _no_console_errors(messages, allow_network=True)  # the refused script answers 400


def test_a_comfyui_workflow_binding_error_is_shown_on_its_field(
    ui, page, messages, comfy, tmp_path
):
    sign_in(page, ui, ui.admin_key)
    show(page, "models", "#add-model")
    page.locator("#add-model").click()
    form = page.locator("#model-form")
    form.locator("input[name=name]").fill("ui-img")
    form.locator("select[name=vendor]").select_option("comfyui")
    form.locator("input[name=base_url]").fill(comfy.base_url)
    expect(form.locator(".comfy")).to_be_visible()
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
    form.locator("input[name=workflow_file]").set_input_files(upload)
    expect(form.locator("textarea[name=workflow]")).to_have_value(re.compile("Empty"))
    form.locator("input[name=bind_width]").fill("1.inputs.wide")
    form.locator("button[type=submit]").click()
    error = form.locator("[data-param=bindings] .field-error").first
    expect(error).to_contain_text("has no input 'wide'")
    form.locator("input[name=bind_width]").fill("1.inputs.width")
    form.locator("button[type=submit]").click()
    expect(page.locator(_model_row("ui-img"))).to_contain_text("image")
    _no_console_errors(messages, allow_network=True)


def _alias_row(pattern: str) -> str:
    return f"#aliases tr[data-alias='{pattern}']"


def test_an_alias_and_the_default_route_made_on_the_models_page_route_requests(ui, page, messages):
    sign_in(page, ui, ui.admin_key)
    show(page, "models", "#alias-form")
    # A route's own name cannot be an alias: the API's error is shown on the field.
    page.locator("#alias-form select[name=model]").select_option("mock")
    pattern = page.locator("#alias-form input[name=pattern]")
    pattern.fill("mock-slow")
    pattern.press("Enter")
    error = page.locator("#alias-form [data-param=pattern] .field-error").first
    expect(error).to_contain_text("model's own name")
    expect(pattern).to_be_focused()  # focus went to the field
    # `claude-*` -> mock, made with the keyboard, is listed and answers claude-3-haiku.
    pattern.fill("claude-*")
    pattern.press("Enter")
    expect(page.locator(f"{_alias_row('claude-*')} td").first).to_have_text("mock")
    client = _client(ui, ui.admin_key)
    hi = [{"role": "user", "content": "hi"}]
    reply = client.chat.completions.create(model="claude-3-haiku", messages=hi)
    assert reply.model == "mock"
    assert reply.choices[0].message.content == "This is the lowart mock model. You said: hi"
    screenshot(page, "models-aliases")
    page.locator(f"{_alias_row('claude-*')} button.danger").click()
    expect(page.locator(_alias_row("claude-*"))).to_have_count(0)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="claude-3-haiku", messages=hi)
    # The default route: set (marked in the list), then cleared.
    default = page.locator("#default-route-form select[name=model]")
    default.select_option("mock")
    page.locator("#default-route-form button[type=submit]").click()
    expect(page.locator(_alias_row("*"))).to_contain_text("default route")
    assert client.chat.completions.create(model="any-name", messages=hi).model == "mock"
    expect(default).to_have_value("mock")
    default.select_option("")
    page.locator("#default-route-form button[type=submit]").click()
    expect(page.locator(_alias_row("*"))).to_have_count(0)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="any-name", messages=hi)
    _no_console_errors(messages, allow_network=True)  # the refused alias answers 400


def test_usage_explorer_filters_pages_and_exports_csv(ui, page, messages, tmp_path):
    key = ui.create_key("ui-explorer")
    for _ in range(3):
        _chat(ui, key)
    _chat(ui, ui.admin_key)
    sign_in(page, ui, ui.admin_key)
    show(page, "usage", "#usage-filters")
    rows = page.locator("#usage-results tbody tr")
    expect(rows.first).to_be_attached()
    page.locator("#usage-filters input[name=key]").fill("ui-explorer")
    page.locator("#usage-filters select[name=limit]").select_option("25")
    page.locator("#usage-filters button[type=submit]").click()
    expect(rows).to_have_count(3)
    expect(page.locator("#usage-results tbody tr td:nth-child(2)")).to_have_text(
        ["ui-explorer"] * 3
    )
    screenshot(page, "usage")
    # Paging: two per page over ui-explorer's three records.
    page.evaluate("""(() => { const s = document.querySelector('#usage-filters select[name=limit]');
        s.append(new Option('2', '2')); })()""")
    page.locator("#usage-filters select[name=limit]").select_option("2")
    page.locator("#usage-filters button[type=submit]").click()
    expect(rows).to_have_count(2)
    first_page = [rows.nth(i).get_attribute("data-id") for i in range(2)]
    page.locator("#usage-older").click()
    expect(rows).to_have_count(1)
    last = rows.first.get_attribute("data-id")
    assert int(last or 0) < min(int(i or 0) for i in first_page)
    page.locator("#usage-newer").click()
    expect(rows).to_have_count(2)
    # CSV of the filtered records, downloaded as a person would.
    with page.expect_download() as download:
        page.locator("#usage-csv").click()
    assert download.value.suggested_filename == "usage.csv"
    target = tmp_path / "usage.csv"
    download.value.save_as(target)
    records = list(csv.DictReader(target.read_text().splitlines()))
    assert len(records) == 3 and {r["key_name"] for r in records} == {"ui-explorer"}
    assert all(r["status"] == "ok" and int(r["total_tokens"]) > 0 for r in records)
    _no_console_errors(messages)


def test_playground_streams_a_chat_with_tokens_and_latency(ui, page, messages):
    sign_in(page, ui, ui.admin_key)
    show(page, "playground", "#chat-form")
    page.locator("#chat-form select[name=model]").select_option("mock-slow")
    message = page.locator("#chat-form textarea[name=message]")
    message.fill("Tell me something")
    message.press("Control+Enter")  # Ctrl+Enter sends
    # Streaming: the answer grows before it is done.
    item = page.locator("#chat-log li.assistant")
    expect(item.locator(".answer")).to_have_text(re.compile(r"\S"))
    partial = item.get_attribute("data-done") or ""
    expect(item).to_have_attribute("data-done", "true")
    assert partial == ""  # it showed words before the end
    assert int(item.get_attribute("data-completion-tokens") or 0) > 0
    meta = item.locator(".meta").text_content() or ""
    assert "completion tokens" in meta and "first token" in meta and "total" in meta
    records = ui.wait_for_records(1)
    assert records[-1]["stream"] and records[-1]["route"] == "mock-slow"
    assert item.locator(".answer").text_content() == (
        "one two three four five six seven eight nine ten"
    )
    screenshot(page, "playground-chat")
    _no_console_errors(messages)


def test_image_job_shows_progress_lands_in_the_gallery_and_can_be_cancelled(
    ui, page, messages, comfy
):
    sign_in(page, ui, ui.admin_key)
    show(page, "playground", "#image-form")
    comfy.step_delay = 0.15
    prompt = page.locator("#image-form textarea[name=prompt]")
    try:
        page.locator("#image-form select[name=model]").select_option("img")
        page.locator("#image-form select[name=size]").select_option("64x64")
        page.locator("#image-form input[name=steps]").fill("8")
        prompt.fill("a lighthouse")
        page.locator("#image-generate").click()
        # A job part-way through.
        page.wait_for_function(
            "() => [...document.querySelectorAll('#jobs progress')]"
            ".some(p => p.value > 0 && p.value < p.max)"
        )
        # The image in the gallery.
        page.wait_for_function(
            "() => [...document.querySelectorAll('#gallery img')]"
            ".some(i => i.complete && i.naturalWidth === 64)",
            timeout=20_000,
        )
        screenshot(page, "playground-images")
    finally:
        comfy.step_delay = 0.0
    # Cancel a job ComfyUI holds before it starts.
    comfy.pause()
    try:
        prompt.fill("never finished")
        page.locator("#image-generate").click()
        cancel = ", ".join(
            f"#jobs tr[data-status={s}] button.danger" for s in ("running", "queued")
        )
        page.locator(cancel).first.click()
        expect(page.locator("#jobs tr[data-status=cancelled]").first).to_be_attached()
    finally:
        comfy.resume()
    _no_console_errors(messages)


def test_a_non_admin_key_sees_only_its_own_data(ui, page, messages):
    key = ui.create_key("ui-user", quota=100_000, quota_period="day")
    _chat(ui, key)
    _chat(ui, key)
    _chat(ui, ui.admin_key)
    sign_in(page, ui, key)
    expect(page.locator("#who")).to_have_text("ui-user")
    links = page.locator("#nav a").all_text_contents()
    assert "Keys" not in links and "Models" not in links
    show(page, "keys", "h1")
    expect(page.locator("#page")).to_contain_text("needs an admin key")
    show(page, "usage", "#usage-filters")
    expect(page.locator("#usage-results tbody tr")).to_have_count(2)
    assert page.locator("#usage-filters input[name=key]").count() == 0
    show(page, "account", "#account-limits")
    expect(page.locator("#account-limits")).to_contain_text("ui-user")
    expect(page.locator("#account-limits")).to_contain_text("100,000")
    show(page, "overview", "#stat-requests")
    expect(page.locator("#stat-requests .value")).to_have_text("2")
    # The admin API refuses the session of a non-admin key, CSRF token or not.
    status = page.evaluate(
        "import('/ui/api.js').then(m => m.request('GET', '/admin/keys'))"
        ".then(() => 200, e => e.status)"
    )
    assert status == 403
    _no_console_errors(messages, allow_network=True)  # the refused admin call logs a 403


PAGES = ("overview", "models", "keys", "usage", "playground", "account")


def test_every_page_fits_a_phone_width(ui, open_tab):
    phone = open_tab(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = phone.page
    sign_in(page, ui, ui.admin_key)
    for name in PAGES:
        show(page, name, "h1")
        expect(page.locator("#page *").nth(5)).to_be_attached()  # more than five elements
        phone.requests.wait_idle(page)  # what the page's first poll fetched is drawn
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
        assert screenshot(page, f"phone-{name}") == (390, 844)
    _no_console_errors(phone.messages)


def test_a_page_load_fetches_only_its_own_code_and_nothing_blocks_its_first_paint(
    ui, page, messages
):
    sign_in(page, ui, ui.admin_key)
    page.goto("about:blank")  # a new document next, not a hash change
    page.goto(ui.base_url + "/ui/#/overview")
    expect(page.locator("#stat-requests")).to_be_attached()
    fetched = page.evaluate(
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
    assert page.evaluate(
        "performance.getEntriesByType('resource').some(r => r.name.endsWith('/ui/page-models.js'))"
    )
    _no_console_errors(messages)
