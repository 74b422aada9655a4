"""Several gateway processes on one database follow each unfinished image job once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lowart.accounting import UsageWriter
from lowart.adapters.comfyui._events import PromptTracker
from lowart.errors import GatewayError
from lowart.images import ImageJobs
from lowart.store import FileStore, JobStore, migrate, open_engine
from lowart.types import ImageProgress


@pytest.fixture
async def engine(tmp_path):
    made = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")
    await migrate(made)
    yield made
    await made.dispose()


def _no_route(name: str):
    raise GatewayError(f"no route {name}")


async def _jobs(engine, tmp_path) -> ImageJobs:
    async def write(_rows) -> None:
        return None

    return ImageJobs(
        JobStore(engine),
        FileStore(engine, tmp_path),
        _no_route,
        UsageWriter(write, flush_seconds=60, batch_size=10),
    )


async def _unfinished(store: JobStore, owner: str | None, until: datetime | None) -> str:
    job = await store.create(
        id="job_lease",
        key_id=1,
        key_name="k",
        route="img",
        interface="http",
        request_id="r",
        status="running",
        params="{}",
        prompt_id="p",
        client_id="c",
        lease_owner=owner,
        lease_until=until,
    )
    return str(job["id"])


async def test_a_job_another_live_process_follows_is_left_to_it(engine, tmp_path):
    store = JobStore(engine)
    later = datetime.now(UTC) + timedelta(seconds=60)
    job_id = await _unfinished(store, "other-process", later)
    mine = await _jobs(engine, tmp_path)
    assert await mine.resume() == 0  # not claimed: the other process renews its lease
    row = await store.get(job_id)
    assert row is not None and row["lease_owner"] == "other-process"
    assert row["status"] == "running"


async def test_a_job_whose_process_stopped_renewing_is_taken_over(engine, tmp_path):
    store = JobStore(engine)
    expired = datetime.now(UTC) - timedelta(seconds=1)
    job_id = await _unfinished(store, "dead-process", expired)
    mine = await _jobs(engine, tmp_path)
    await mine.resume()  # claims it (its route is gone here, so it ends failed at once)
    row = await store.get(job_id)
    assert row is not None and row["lease_owner"] == mine.owner
    assert row["status"] == "failed"


async def test_leases_are_claimed_once_renewed_and_released(engine):
    store = JobStore(engine)
    soon = datetime.now(UTC) + timedelta(seconds=60)
    job_id = await _unfinished(store, None, None)
    assert await store.claim(job_id, "a", soon)
    assert not await store.claim(job_id, "b", soon)  # a holds it
    assert await store.renew("a", soon + timedelta(seconds=60)) == 1
    await store.release("a")
    assert await store.claim(job_id, "b", soon)  # released: b takes it at once


def test_progress_numbering_goes_on_after_a_restart():
    workflow = {str(i): {"class_type": f"Node{i}"} for i in range(1, 15)}
    before = ImageProgress(state="running", node="7", node_index=7, node_count=14)
    tracker = PromptTracker("p", workflow, resume_from=before)
    progress = tracker.feed("executing", {"prompt_id": "p", "node": "8"})
    assert progress is not None
    assert (progress.node_index, progress.node_count) == (8, 14)
