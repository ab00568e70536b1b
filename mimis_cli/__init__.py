"""``mimis``: the command line for operators and provider integrators (typer + rich)."""
