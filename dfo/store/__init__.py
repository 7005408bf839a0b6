"""The SQL store: the source of truth. `Store.open(settings)` gives a ready, migrated store."""

from dfo.store.store import Store

__all__ = ["Store"]
