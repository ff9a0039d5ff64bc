"""Stopping a long-running bus consumer (a worker) on SIGTERM / SIGINT."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable


def stop_on_signals(stop: asyncio.Event) -> Callable[[], None]:
    """Set ``stop`` on SIGTERM or SIGINT; returns the function that removes the handlers.

    Must be called from a running event loop. Outside the main thread (where Python delivers
    no signals) nothing is installed and the returned function does nothing.
    """
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
            installed.append(signum)

    def uninstall() -> None:
        for signum in installed:
            loop.remove_signal_handler(signum)
        installed.clear()

    return uninstall
