"""The ``heliarch`` command line (Typer): ``app`` holds every command, ``main`` runs it.

One module per command group (``_backtest``, ``_bus``, ``_models``, ``_policy``, ...); every
error a user can cause is one line naming the input and a non-zero exit (``_errors``), with a
traceback only under ``--debug``.
"""

from heliarch.cli._app import app, main

__all__ = ["app", "main"]
