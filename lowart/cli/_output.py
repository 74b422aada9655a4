"""How list commands print: a table for people, `--json` and `--csv` for programs."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from lowart.cli._table import render_table

__all__ = ["as_csv", "as_json", "json_line", "print_rows"]


def as_json(payload: object) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False, default=str)


def json_line(payload: object) -> str:
    """One record per line (JSON Lines), for output that keeps coming (`logs --follow`)."""
    return json.dumps(payload, ensure_ascii=False, default=str, separators=(",", ":"))


def as_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: "" if row.get(name) is None else row.get(name) for name in columns})
    return buffer.getvalue().rstrip("\n")


def print_rows(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    *,
    json_output: bool = False,
    raw: Sequence[dict[str, Any]] | None = None,
) -> None:
    """A table of `columns`, or with `json_output` the rows as JSON (`raw`: the rows
    before they were shaped for the table)."""
    if json_output:
        print(as_json(list(raw if raw is not None else rows)))
    else:
        print(render_table(rows, columns))
