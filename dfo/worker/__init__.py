"""`dfo worker`: arq workers running the four-phase agent pipeline."""
