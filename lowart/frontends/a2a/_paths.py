"""Where A2A lives on the HTTP listener (cheap to import: no SDK)."""

__all__ = ["A2A_PATH", "AGENT_CARD_PATH"]

A2A_PATH = "/a2a"
AGENT_CARD_PATH = "/.well-known/agent-card.json"
