"""The core: the hub, its handlers per role, assignment, the journal, sessions and fan-out."""
