"""Lua transforms: sandboxed per-route scripts at the vendor boundary.

A route's script may define `request(payload, ctx)`, `response(payload, ctx)`
and `chunk(event, ctx)`. Scripts run in lupa (Lua 5.4) with no access to the
host, under per-call limits, and are compiled once per script version.
"""

from lowart.transforms._check import MAX_SCRIPT_BYTES, check_script, dry_run_script, try_script
from lowart.transforms._hooks import ScriptHooks
from lowart.transforms._limits import ScriptLimits
from lowart.transforms._registry import ScriptRegistry
from lowart.transforms._script import PHASES, CompiledScript, ScriptError

__all__ = [
    "MAX_SCRIPT_BYTES",
    "PHASES",
    "CompiledScript",
    "ScriptError",
    "ScriptHooks",
    "ScriptLimits",
    "ScriptRegistry",
    "check_script",
    "dry_run_script",
    "try_script",
]
