"""The four phases of the pipeline, one module each (DESIGN.md section 2)."""
