"""Local services dfo manages itself in the embedded mode."""
