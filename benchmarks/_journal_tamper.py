"""Journal tamper cases for ``benchmarks/robustness.py``: one real recorded journal, and the
edits ``replay`` must reject (removed, duplicated, reordered, torn, edited, re-chained lines).
Not a benchmark of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bus import BarSeries, MarketSnapshot
from bus._chain import Chain
from bus._journal import record_line


def recorded_journal(path: Path, goog: BarSeries) -> list[str]:
    """The lines of a real journal: a quant sun's three GOOG decisions, recorded at ``path``."""
    from sun import Sun
    from sun.replay import record

    with Sun("quant", checkpoint="none") as sun, record(sun, path) as recorder:
        for when in (datetime(2009, 3, 2), datetime(2011, 9, 1), datetime(2012, 6, 1)):
            recorder.decide(MarketSnapshot.at(when, {"GOOG": goog}))
    return path.read_text().splitlines()


def _rechain(lines: list[str]) -> list[str]:
    chain, out = Chain(), []
    for line in lines:
        text = json.dumps(json.loads(line)["envelope"])
        out.append(record_line(chain.next(text), text))
    return out


def tamper_cases(lines: list[str]) -> dict[str, str]:
    kinds = [json.loads(line)["envelope"]["payload_type"] for line in lines]
    i = kinds.index("sun_decision")

    def joined(items: list[str]) -> str:
        return "\n".join(items) + "\n"

    def edited(item: int, change: Callable[[dict[str, Any]], None]) -> list[str]:
        data = json.loads(lines[item])
        change(data["envelope"]["payload"])
        return [*lines[:item], json.dumps(data), *lines[item + 1 :]]

    def confidence(payload: dict[str, Any]) -> None:
        payload["confidence"] = round(1.0 - payload["confidence"], 6)

    def volume(payload: dict[str, Any]) -> None:
        payload["series"]["volume"][100] += 100.0

    return {
        "decision removed": joined(lines[:i] + lines[i + 1 :]),
        "last decision removed": joined(lines[:-1]),
        "request removed": joined(lines[: i - 1] + lines[i:]),
        "decision duplicated": joined(lines[: i + 1] + [lines[i]] + lines[i + 1 :]),
        "reordered": joined(lines[: i - 1] + [lines[i], lines[i - 1]] + lines[i + 1 :]),
        "torn end": joined(lines[:-1]) + lines[-1][:100],
        "truncated first line": lines[0][:40],
        "empty file": "",
        "not json": "garbage\n",
        "decision edited": joined(edited(i, confidence)),
        "series edited and re-chained": joined(_rechain(edited(0, volume))),
    }
