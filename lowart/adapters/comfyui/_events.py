"""What following one ComfyUI prompt yields, and how websocket frames become it.

The tracker reads ComfyUI's frames (execution_start, execution_cached,
executing, progress, ...) for one prompt id and turns them into `Progress`
snapshots: queued, node k of m (with its class), sampler step i of n. Frames
for other prompts and the status broadcasts are ignored.
"""

from __future__ import annotations

from typing import Any

from lowart.adapters._image import ImageFinished as Finished
from lowart.adapters._image import ImageRef
from lowart.types import ImageProgress as Progress

__all__ = ["Finished", "ImageRef", "Progress", "PromptTracker"]


class PromptTracker:
    """Folds one prompt's frames into progress; `done` once ComfyUI is through with it."""

    def __init__(
        self,
        prompt_id: str,
        workflow: dict[str, Any] | None,
        resume_from: Progress | None = None,
    ) -> None:
        """`resume_from`: the last progress seen before a restart, so the numbering goes
        on ("node 8 of 14") instead of starting again at 1."""
        self.prompt_id = prompt_id
        self._workflow = workflow or {}
        self._node_count = len(self._workflow)
        self._node_index = 0
        self._node: str | None = None
        self.done = False
        if resume_from is not None and resume_from.state == "running":
            self._node_index = resume_from.node_index
            self._node = resume_from.node
            if resume_from.node_count:
                self._node_count = resume_from.node_count

    def feed(self, kind: str, data: Any) -> Progress | None:
        if not isinstance(data, dict) or data.get("prompt_id") != self.prompt_id:
            return None
        if kind == "execution_start":
            return self._running()
        if kind == "execution_cached":
            cached = data.get("nodes") or ()
            self._node_count = max(len(self._workflow) - len(cached), 0)
            return None
        if kind == "executing":
            node = data.get("node")
            if node is None:
                self.done = True
                return None
            self._node = str(node)
            self._node_index += 1
            return self._running()
        if kind == "progress":
            return self._running(step=_int(data.get("value")), steps=_int(data.get("max")))
        if kind in ("execution_success", "execution_error", "execution_interrupted"):
            return None
        return None

    def _running(self, step: int | None = None, steps: int | None = None) -> Progress:
        node = self._workflow.get(self._node or "") or {}
        count = max(self._node_count, self._node_index)
        return Progress(
            state="running",
            node=self._node,
            node_type=node.get("class_type"),
            node_index=self._node_index,
            node_count=count,
            step=step,
            steps=steps,
        )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
