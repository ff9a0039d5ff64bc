"""The CLI's error boundary: an expected error is one line on stderr and an exit code.

Every command runs inside :func:`boundary`: bad input (``ValueError`` and its kin such as
``DataValidationError``, ``PromptError``, ``SpecError``; files that cannot be read; a Redis
that does not answer) prints ``error: <what, naming the field and value>`` and exits 2;
anything else prints one ``internal error`` line and exits 1. ``heliarch --debug <command>``
lets the exception through with its traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import typer

from bus import BarSeries, DataValidationError

BAD_INPUT = 2
INTERNAL = 1
F = TypeVar("F", bound=Callable[..., Any])


class _State:
    debug = False


STATE = _State()


def set_debug(debug: bool) -> None:
    """Let exceptions through with their tracebacks (``--debug``)."""
    STATE.debug = debug


def _expected(error: BaseException) -> bool:
    """Whether ``error`` is a user's bad input or environment, not a bug."""
    from redis.exceptions import RedisError

    return isinstance(error, ValueError | DataValidationError | OSError | RedisError | KeyError)


def one_line(error: BaseException) -> str:
    """The error's message on one line (multi-line messages are joined)."""
    text = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    return " ".join(text.split()) or type(error).__name__


def boundary(command: F) -> F:
    """Run ``command`` so that an error is one stderr line and an exit code (see module)."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as error:
            if STATE.debug:
                raise
            if _expected(error):
                typer.echo(f"error: {one_line(error)}", err=True)
                raise typer.Exit(BAD_INPUT) from None
            typer.echo(
                f"internal error: {type(error).__name__}: {one_line(error)} "
                "(rerun with --debug for the traceback)",
                err=True,
            )
            raise typer.Exit(INTERNAL) from None

    return cast(F, run)  # functools.wraps keeps the signature typer reads


def shown_url(url: str) -> str:
    """``url`` without its password (safe to print)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=f"{user}{host}{port}"))


T = TypeVar("T")


def option(name: str, value: T, parse: Callable[[T], Any]) -> Any:
    """``parse(value)``; its ``ValueError`` is re-raised naming the command-line option."""
    try:
        return parse(value)
    except ValueError as error:
        raise ValueError(f"{name} {value!r}: {one_line(error)}") from None


def model_option(spec: str | None) -> str | None:
    """The ``--model`` value if it parses as a model spec (``None``: the default model)."""
    from sun.llm import parse_model_spec

    if spec is not None:
        option("--model", spec, parse_model_spec)
    return spec


def parse_time(option: str, value: str) -> datetime:
    """An ISO date/time given to ``option`` (aware times become naive UTC).

    Raises:
        ValueError: naming the option and the value.
    """
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{option} {value!r} is not an ISO date or time (e.g. 2012-06-01 or 2012-06-01T16:00)"
        ) from None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return stamp


def check_window(start: datetime | None, end: datetime | None, series: BarSeries) -> None:
    """A backtest window that overlaps ``series``' bars.

    Raises:
        ValueError: naming ``--start``/``--end``, the time and the data's range.
    """
    first, last, span = series.first_timestamp, series.last_timestamp, series.span()
    if start is not None and start > last:
        raise ValueError(f"--start {start.isoformat()} is after the last bar ({span})")
    if end is not None and end < first:
        raise ValueError(f"--end {end.isoformat()} is before the first bar ({span})")
    if start is not None and end is not None and start > end:
        raise ValueError(f"--start {start.isoformat()} is after --end {end.isoformat()}")


def check_within(option: str, stamp: datetime, series: BarSeries) -> datetime:
    """``stamp`` if it lies within ``series``' bars.

    Raises:
        ValueError: naming the option, the time and the data's range.
    """
    return series.check_within(option, stamp)
