"""TUI tests reuse the worker fixtures: real Redis, real store, real worker processes."""

from tests.worker.conftest import client, fast, spawn_worker

__all__ = ["client", "fast", "spawn_worker"]
