"""Where prompt files live: the user-writable prompt directory (no other prompts imports)."""

from __future__ import annotations

import os
from pathlib import Path


def user_prompt_dir() -> Path:
    """The user-writable template directory.

    ``HELIARCH_PROMPTS_DIR`` if set, else ``$HELIARCH_DATA_DIR/prompts``, else
    ``~/.heliarch/prompts``. It need not exist until something is written to it.
    """
    explicit = os.environ.get("HELIARCH_PROMPTS_DIR")
    if explicit:
        return Path(explicit).expanduser()
    data = os.environ.get("HELIARCH_DATA_DIR")
    return (Path(data).expanduser() if data else Path.home() / ".heliarch") / "prompts"
