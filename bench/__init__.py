"""dfo's benchmark suite: `make bench`, or `python -m bench NAME --json` for one scenario."""
