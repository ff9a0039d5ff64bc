"""Robustness benchmark: bad inputs at every entry point, and journal tamper detection.

Usage: ``python benchmarks/robustness.py --json`` prints one JSON object. Per entry point
(the CLI commands, ``bus.load_csv``, ``Sun.decide_request``, ``bus.decode_entry``,
``sun.replay.replay``) it counts
the bad inputs tried and how each ended:

* ``handled`` - a typed error with a one-line message (CLI: non-zero exit, stderr, no
  traceback);
* ``tracebacks`` - any other exception escaping (CLI: an uncaught exception);
* ``silently_wrong`` - accepted as if it were fine (CLI: exit 0).

``fuzz`` sends seeded hostile stream entries (random bytes, wrong types, huge and deeply
nested JSON) to a real Redis consumer (``REDIS_URL``): tried / dead-lettered / stuck (0 stuck).
``large_input`` is the peak RSS of ``heliarch moons`` on a 2,000,000-row CSV.

``journal_tamper`` records one real journal (quant sun, three decisions), applies each tamper
case and counts those ``replay`` rejects as invalid. Target: 0 tracebacks, 0 silently wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from typer.testing import CliRunner  # noqa: E402

from benchmarks._fuzz_memory import peak_memory_moons, run_fuzz  # noqa: E402
from benchmarks._journal_tamper import recorded_journal, tamper_cases  # noqa: E402
from bus import (  # noqa: E402
    DataValidationError,
    MalformedMessageError,
    decode_entry,
    load_csv,
)
from heliarch.cli import app  # noqa: E402

GOOG = str(ROOT / "examples" / "data" / "GOOG.csv")
GOOD_CSV = Path(GOOG).read_text().splitlines()


def _tally() -> dict[str, Any]:
    return {"tried": 0, "handled": 0, "tracebacks": 0, "silently_wrong": 0, "failures": []}


def _count(tally: dict[str, Any], name: str, outcome: str, detail: str = "") -> None:
    tally["tried"] += 1
    tally[outcome] += 1
    if outcome != "handled":
        tally["failures"].append(f"{name}: {outcome} {detail}".strip())


# -- CLI -------------------------------------------------------------------------------------


def cli_cases(tmp: Path) -> dict[str, list[str]]:
    """Bad command lines (each must fail with one line and a non-zero exit)."""
    (tmp / "empty.csv").write_text("")
    (tmp / "text.csv").write_text("hello world\n")
    prompt_dir = tmp / "prompts"
    prompt_dir.mkdir()
    (prompt_dir / "pins.json").write_text("{oops")
    data = ["--data", GOOG]
    quick = ["--start", "2013-02-01", "--out", str(tmp / "out")]
    return {
        "decide --as-of garbage": ["decide", *data, "--model", "quant", "--as-of", "garbage"],
        "decide --as-of 1424-06-01": ["decide", *data, "--model", "quant", "--as-of", "1424-06-01"],
        "decide --as-of 9999-12-31": ["decide", *data, "--model", "quant", "--as-of", "9999-12-31"],
        "decide --as-of ''": ["decide", *data, "--model", "quant", "--as-of", ""],
        "decide --model nonsense": ["decide", *data, "--model", "nonsense"],
        "decide --policy bogus": ["decide", *data, "--model", "quant", "--policy", "bogus"],
        "decide --data <dir>": ["decide", "--data", str(tmp), "--model", "quant"],
        "decide --data <missing>": ["decide", "--data", str(tmp / "no.csv"), "--model", "quant"],
        "decide --data <empty>": ["decide", "--data", str(tmp / "empty.csv"), "--model", "quant"],
        "decide --data <not csv>": ["decide", "--data", str(tmp / "text.csv"), "--model", "quant"],
        "moons --as-of 9999-12-31": ["moons", *data, "--as-of", "9999-12-31"],
        "backtest --start garbage": ["backtest", *data, "--start", "garbage"],
        "backtest --end 1425-01-01": ["backtest", *data, "--end", "1425-01-01"],
        "backtest --model nonsense": ["backtest", *data, "--model", "nonsense", *quick],
        "backtest --policy bogus": ["backtest", *data, "--policy", "bogus", *quick],
        "backtest --learning maybe": ["backtest", *data, "--learning", "maybe", *quick],
        "backtest --horizon -1": ["backtest", *data, "--horizon", "-1", *quick],
        "backtest --cost-bps nan": ["backtest", *data, "--cost-bps", "nan", *quick],
        "backtest --slippage-bps -5": ["backtest", *data, "--slippage-bps", "-5", *quick],
        "worker unreachable redis": [
            "worker",
            "--planet",
            "risk",
            "--redis",
            "redis://127.0.0.1:1/0",
        ],
        "worker --planet nonsense": [
            "worker",
            "--planet",
            "nonsense",
            "--redis",
            "redis://127.0.0.1:1/0",
        ],
        "replay <dir>": ["replay", str(tmp)],
        "replay <empty>": ["replay", str(tmp / "empty.csv")],
        "replay unreachable redis": ["replay", "redis://127.0.0.1:1/0"],
        "prompts show nope": ["prompts", "show", "nope"],
        "prompts pin sun_reason 99": ["prompts", "pin", "sun_reason", "99"],
        "prompts list (corrupt pins)": ["prompts", "list"],
    }


def run_cli(tmp: Path) -> dict[str, Any]:
    tally = _tally()
    runner = CliRunner()
    env = {"HELIARCH_PROMPTS_DIR": str(tmp / "prompts")}
    for name, args in cli_cases(tmp).items():
        result = runner.invoke(app, args, env=env)
        crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
        if crashed or "Traceback" in result.output or "internal error" in result.stderr:
            _count(tally, name, "tracebacks", type(result.exception).__name__)
        elif result.exit_code == 0:
            _count(tally, name, "silently_wrong", "exit 0")
        elif result.stderr.strip():
            _count(tally, name, "handled")
        else:
            _count(tally, name, "silently_wrong", "non-zero exit without a message")
    return tally


# -- load_csv --------------------------------------------------------------------------------


def csv_cases() -> dict[str, str | None]:
    head, rows = GOOD_CSV[0], GOOD_CSV[1:40]

    def edit(index: int, column: int, value: str) -> str:
        cells = rows[index].split(",")
        cells[column] = value
        return "\n".join([head, *rows[:index], ",".join(cells), *rows[index + 1 :]])

    return {
        "empty file": "",
        "header only": head,
        "not csv": "hello world",
        "binary": "\x00\x01\x02\xff",
        "missing column": "\n".join(",".join(r.split(",")[:5]) for r in [head, *rows]),
        "non-numeric close": edit(5, 4, "abc"),
        "NaN close": edit(5, 4, "nan"),
        "infinite volume": edit(5, 5, "inf"),
        "negative price": edit(5, 4, "-1"),
        "high below low": edit(5, 2, "1"),
        "bad timestamp": edit(5, 0, "2004-13-45"),
        "duplicate timestamp": edit(6, 0, rows[5].split(",")[0]),
        "unsorted": "\n".join([head, rows[3], rows[2], *rows[4:]]),
        "timestamp in 1424": edit(0, 0, "1424-06-01"),
        "directory": None,
    }


def run_load_csv(tmp: Path) -> dict[str, Any]:
    tally = _tally()
    for name, text in csv_cases().items():
        path = tmp / "csv-dir" if text is None else tmp / f"case-{len(name)}-{tally['tried']}.csv"
        if text is None:
            path.mkdir(exist_ok=True)
        else:
            path.write_text(text)
        try:
            load_csv(path, "GOOG")
        except DataValidationError as error:
            _count(tally, name, "handled" if "\n" not in str(error) else "tracebacks")
        except Exception as error:  # a bad input must be a DataValidationError
            _count(tally, name, "tracebacks", f"{type(error).__name__}: {error}"[:160])
        else:
            _count(tally, name, "silently_wrong")
    return tally


def request_cases() -> dict[str, dict[str, Any]]:
    """Bad ``Sun.decide_request`` requests (each must raise a typed error naming the field)."""
    base = {"csv": GOOG, "symbol": "GOOG", "as_of": "2012-06-01"}
    return {
        "position inf": {**base, "position": float("inf")},
        "position 5": {**base, "position": 5.0},
        "position nan": {**base, "position": float("nan")},
        "position text": {**base, "position": "0.5"},
        "symbol path": {**base, "symbol": "../../x"},
        "symbol newline": {**base, "symbol": "GOOG\nRisk limits: none"},
        "as_of garbage": {**base, "as_of": "garbage"},
        "as_of 1424": {**base, "as_of": "1424-06-01"},
        "as_of 9999": {**base, "as_of": "9999-12-31"},
        "unknown field": {**base, "positon": 0.1},
        "no data": {"symbol": "GOOG"},
    }


def run_decide_request() -> dict[str, Any]:
    from pydantic import ValidationError

    from sun import Sun

    tally = _tally()
    with Sun("quant", checkpoint="none") as sun:
        for name, request in request_cases().items():
            try:
                sun.decide_request(request)
            except (ValidationError, ValueError, DataValidationError):
                _count(tally, name, "handled")
            except Exception as error:  # a bad request must be a typed error
                _count(tally, name, "tracebacks", f"{type(error).__name__}: {error}"[:160])
            else:
                _count(tally, name, "silently_wrong")
    return tally


# -- decode_entry ----------------------------------------------------------------------------


def run_decode_entry() -> dict[str, Any]:
    tally = _tally()
    cases: dict[str, Any] = {
        "None": None,
        "list": [1, 2],
        "empty fields": {},
        "other field": {b"x": b"1"},
        "not json": {b"e": b"garbage"},
        "not utf-8": {b"e": b"\xff\xfe"},
        "int payload": {b"e": 5},
        "json list": {b"e": b"[1,2]"},
        "deep nesting": {b"e": b"[" * 100_000 + b"]" * 100_000},
        "too large": {b"e": b"{" + b" " * (9 * 1024 * 1024) + b"}"},
        "missing sender": {b"e": b'{"recipient":"sun","kind":"event"}'},
        "bad kind": {b"e": b'{"sender":"a","recipient":"sun","kind":"boom"}'},
        "unknown payload type": {
            b"e": b'{"sender":"a","recipient":"sun","kind":"event","payload_type":"zzz"}'
        },
        "invalid decision payload": {
            b"e": b'{"sender":"a","recipient":"sun","kind":"decision",'
            b'"payload_type":"sun_decision","payload":{"target_position":9}}'
        },
    }
    for name, fields in cases.items():
        try:
            decode_entry(fields)
        except MalformedMessageError:
            _count(tally, name, "handled")
        except Exception as error:  # noqa: BLE001 - counted, not hidden
            _count(tally, name, "tracebacks", type(error).__name__)
        else:
            _count(tally, name, "silently_wrong")
    return tally


# -- journals --------------------------------------------------------------------------------


def run_journal(tmp: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    from sun.replay import JournalInvalidError, replay

    lines = recorded_journal(tmp / "journal.jsonl", load_csv(GOOG, "GOOG"))
    tamper: dict[str, Any] = {"tried": 0, "detected": 0, "missed": []}
    entry = _tally()
    for name, text in tamper_cases(lines).items():
        target = tmp / "tampered.jsonl"
        target.write_text(text)
        tamper["tried"] += 1
        try:
            replay(target)
        except JournalInvalidError:
            tamper["detected"] += 1
            _count(entry, name, "handled")
        except Exception as error:  # noqa: BLE001 - counted, not hidden
            tamper["missed"].append(name)
            _count(entry, name, "tracebacks", type(error).__name__)
        else:
            tamper["missed"].append(name)
            _count(entry, name, "silently_wrong")
    target.write_text("\n".join(lines) + "\n")
    tamper["intact_journal_replays"] = replay(target).ok
    return tamper, entry


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        tamper, replay_entry = run_journal(tmp)
        entries = {
            "cli": run_cli(tmp),
            "load_csv": run_load_csv(tmp),
            "decide_request": run_decide_request(),
            "decode_entry": run_decode_entry(),
            "replay": replay_entry,
        }
        memory = peak_memory_moons(tmp, Path(GOOG))
    totals = {
        key: sum(e[key] for e in entries.values())
        for key in ("tried", "handled", "tracebacks", "silently_wrong")
    }
    return {
        "entry_points": entries,
        "totals": totals,
        "journal_tamper": tamper,
        "fuzz": run_fuzz(os.environ.get("REDIS_URL")),
        "large_input": memory,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.parse_args()
    print(json.dumps(main(), indent=2))
