"""Stored Responses API objects and background runs, kept per key."""

from lowart.responses._service import MAX_STORED_BYTES, ResponseService

__all__ = ["MAX_STORED_BYTES", "ResponseService"]
