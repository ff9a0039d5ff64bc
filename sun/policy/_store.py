"""A policy that can be reloaded while decisions run: all or nothing."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from sun.policy._errors import PolicyError, PolicyLoadError
from sun.policy._policy import Policy, _load


class PolicyStore:
    """Holds the current policy of one file; :meth:`reload` swaps it only if the file is valid.

    Runs already started keep the plan they were given (plans travel in the graph state), so
    a reload never changes a decision in flight.
    """

    def __init__(self, path: str | Path) -> None:
        self._path = str(path)
        self._lock = threading.Lock()
        self._mtime = -1.0
        errors = self.reload()
        if errors:
            raise PolicyLoadError(errors)

    @property
    def current(self) -> Policy:
        """The last valid policy."""
        return self._policy

    def reload(self) -> list[PolicyError]:
        """Re-read the file; on any error keep the current policy and return the errors."""
        with self._lock:
            mtime = _mtime(self._path)
            policy, errors = _load(self._path)
            if policy is not None and not errors:
                self._policy = policy
                self._mtime = mtime
            return errors

    def reload_if_changed(self) -> list[PolicyError]:
        """Reload only when the file's modification time moved (cheap to call per decision)."""
        if _mtime(self._path) == self._mtime:
            return []
        return self.reload()


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return -1.0
