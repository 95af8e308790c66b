"""Video analytics event pipeline: event log, Redis relay, snapshots and CLI."""

__version__ = "0.1.0"
