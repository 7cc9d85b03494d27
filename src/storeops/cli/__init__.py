"""The ``storeops`` command line (Typer + Rich)."""
