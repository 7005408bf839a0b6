"""dfo: run AI agents on project tasks in the background and watch them live."""

__version__ = "0.1.0"
