"""One module per scenario; each exposes `NAME`, `WHAT`, `TARGET` and `async run(env, full)`."""
