"""Pins: which version of a prompt is active, kept in a small JSON file beside the templates.

Pinning never edits a template file. The pin book of the default search path lives in the user
prompt directory (``<data dir>/prompts/pins.json``); one for an explicit directory lives in it.
Every change is appended to the book's log, so a rollback can say what it undid.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prompts._paths import user_prompt_dir

PINS_FILE = "pins.json"
_LOCK = threading.Lock()


@dataclass(frozen=True)
class PinChange:
    """One pin, unpin or rollback of one prompt."""

    name: str
    version: str | None
    previous: str | None
    kind: str
    reason: str
    at: str


class PinBook:
    """The pinned versions of one template search path (a JSON file)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def for_directory(cls, directory: Path | None = None) -> PinBook:
        """The pin book of ``directory``, or of the user directory when ``None``."""
        return cls((Path(directory) if directory is not None else user_prompt_dir()) / PINS_FILE)

    def _read(self) -> dict[str, Any]:
        if not self.path.is_file():
            return {"pins": {}, "log": []}
        data = json.loads(self.path.read_text(encoding="utf-8"))
        data.setdefault("pins", {})
        data.setdefault("log", [])
        return data

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".pins-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
        os.replace(tmp, self.path)

    def pinned(self, name: str) -> str | None:
        """The pinned version of ``name`` or ``None``."""
        return self._read()["pins"].get(name)

    def all(self) -> dict[str, str]:
        """Every pin, by prompt name."""
        return dict(self._read()["pins"])

    def set(self, name: str, version: str | None, kind: str, reason: str = "") -> PinChange:
        """Pin ``version`` (``None`` unpins) and log the change."""
        with _LOCK:
            data = self._read()
            previous = data["pins"].get(name)
            if version is None:
                data["pins"].pop(name, None)
            else:
                data["pins"][name] = str(version)
            change = PinChange(
                name=name,
                version=None if version is None else str(version),
                previous=previous,
                kind=kind,
                reason=reason,
                at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
            data["log"].append(change.__dict__)
            self._write(data)
            return change

    def log(self, name: str | None = None) -> list[PinChange]:
        """Pin changes, oldest first (of one prompt when ``name`` is given)."""
        return [PinChange(**e) for e in self._read()["log"] if name in (None, e["name"])]
