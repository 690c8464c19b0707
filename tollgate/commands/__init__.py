"""Subcommands of the ``tollgate`` command, one module each."""
