"""chatserver: self-hosted live chat for online shops that sell across borders."""

__version__ = "0.1.0"
