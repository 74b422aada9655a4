"""Checks a script before it is stored, and runs one for `lowart scripts test`."""

from __future__ import annotations

from typing import Any

from lowart.errors import InvalidRequest
from lowart.transforms._hooks import run_phase
from lowart.transforms._limits import ScriptLimits
from lowart.transforms._samples import SAMPLE_CONTEXT, sample_context, sample_payloads
from lowart.transforms._script import PHASES, CompiledScript, ScriptError

__all__ = ["MAX_SCRIPT_BYTES", "check_script", "dry_run_script", "try_script"]

MAX_SCRIPT_BYTES = 256 * 1024


def check_script(source: object, limits: ScriptLimits | None = None, vendor: str = "openai") -> str:
    """Compile and dry-run every phase the script defines against sample payloads
    in the format of the route's `vendor` (what the script will see live).

    Raises InvalidRequest naming the phase and the Lua error with its line, so a
    broken script is refused at upload instead of failing live traffic.
    """
    dry_run_script(source, limits, vendor)
    assert isinstance(source, str)
    return source


def dry_run_script(
    source: object, limits: ScriptLimits | None = None, vendor: str = "openai"
) -> list[dict[str, Any]]:
    """`check_script`'s dry run, returning what each phase made of each sample
    (`phase`, `input`, `output`), for a person to look at before saving."""
    if not isinstance(source, str) or not source.strip():
        raise InvalidRequest("'script' must be Lua source text (or null).", param="script")
    if len(source.encode()) > MAX_SCRIPT_BYTES:
        raise InvalidRequest(
            f"The script is larger than {MAX_SCRIPT_BYTES // 1024} KiB.", param="script"
        )
    try:
        script = CompiledScript(source, limits or ScriptLimits(), label="upload")
        if not script.phases:
            raise ScriptError("compile", "defines none of request, response or chunk")
        ctx = script.context(sample_context(vendor))
        results = []
        for phase in PHASES:
            if phase in script.phases:
                for payload, copy in zip(
                    sample_payloads(phase, vendor), sample_payloads(phase, vendor), strict=True
                ):
                    output = run_phase(script, phase, payload, ctx)
                    results.append({"phase": phase, "input": copy, "output": output})
    except ScriptError as exc:
        raise InvalidRequest(
            f"The script was refused: {exc.phase}: {exc.message}",
            param="script",
            code="invalid_script",
        ) from None
    return results


def try_script(
    source: str, payload: dict[str, Any], phase: str, limits: ScriptLimits | None = None
) -> Any:
    """What the script makes of one payload (None: a dropped chunk); raises InvalidRequest."""
    if phase not in PHASES:
        raise InvalidRequest(f"Unknown phase {phase!r}; use one of {', '.join(PHASES)}.")
    try:
        script = CompiledScript(source, limits or ScriptLimits(), label="test")
        return run_phase(script, phase, payload, script.context(SAMPLE_CONTEXT))
    except ScriptError as exc:
        raise InvalidRequest(f"{exc.phase}: {exc.message}", code="invalid_script") from None
