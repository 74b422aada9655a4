"""Protocol frontends: decode a protocol into canonical calls, encode the answers."""
