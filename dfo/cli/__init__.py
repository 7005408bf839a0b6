"""The `dfo` command line: Typer app, one module per command group."""
