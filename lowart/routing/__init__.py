"""Choosing the upstream for a public model name."""

from lowart.routing._manager import ModelManager, route_from_row

__all__ = ["ModelManager", "route_from_row"]
