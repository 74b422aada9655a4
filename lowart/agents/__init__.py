"""Agent tasks: the A2A tasks each key created, kept in the database.

The A2A frontend asks this service, never the store, for tasks and their push
webhooks. Ownership is decided here: every call names the caller's Principal,
and a task of another key is simply not found (not "forbidden": its id must not
even be confirmed to exist).
"""

from lowart.agents._tasks import AgentTasks, StoredTask, TaskPage

__all__ = ["AgentTasks", "StoredTask", "TaskPage"]
