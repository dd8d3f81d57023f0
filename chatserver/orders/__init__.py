"""The shop's orders: a connector to the shop's own order endpoint, and the demo shop's service."""
