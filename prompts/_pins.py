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

from prompts._errors import PromptError
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
        """The book's contents.

        Raises:
            PromptError: one line naming the file when it is unreadable or not a pin book.
        """
        if not self.path.exists():
            return {"pins": {}, "log": []}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise PromptError(f"{self.path}: corrupt pin book: {error}") from None
        if not isinstance(data, dict):
            raise PromptError(f"{self.path}: corrupt pin book: not a JSON object")
        data.setdefault("pins", {})
        data.setdefault("log", [])
        pins, log = data["pins"], data["log"]
        if not isinstance(pins, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in pins.items()
        ):
            raise PromptError(f"{self.path}: corrupt pin book: 'pins' is not name -> version")
        if not isinstance(log, list) or not all(_is_change(e) for e in log):
            raise PromptError(f"{self.path}: corrupt pin book: 'log' entries are malformed")
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


def _is_change(entry: object) -> bool:
    """Whether ``entry`` is a logged :class:`PinChange`."""
    fields = set(PinChange.__dataclass_fields__)
    return isinstance(entry, dict) and set(entry) == fields
