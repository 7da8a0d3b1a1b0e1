"""The ``press-intake`` command line (typer + rich). Never imported by Lambda code."""
