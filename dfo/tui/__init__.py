"""`dfo tui`: the live dashboard (Textual)."""
