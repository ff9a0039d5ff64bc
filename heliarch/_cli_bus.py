"""``heliarch worker`` (serve planets over Redis) and ``heliarch replay`` (re-run a journal)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from sun.replay import ReplayReport

console = Console()
err_console = Console(stderr=True)

PLANET_HELP = "planet to serve (repeat for several): technical, risk, sentiment, execution"


def worker(
    planet: list[str] = typer.Option(..., "--planet", "-p", help=PLANET_HELP),
    redis: str = typer.Option(
        None, "--redis", help="Redis URL (default: REDIS_URL or redis://127.0.0.1:6379/0)"
    ),
    prefix: str = typer.Option("heliarch:", help="key prefix shared with the sun"),
    group: str | None = typer.Option(None, help="consumer group (default: the planet's name)"),
    consumer: str | None = typer.Option(None, help="consumer name (default: host-pid-random)"),
    tls_cert: Path | None = typer.Option(None, help="client certificate (mutual TLS)"),
    tls_key: Path | None = typer.Option(None, help="client certificate's private key"),
    tls_ca: Path | None = typer.Option(None, help="CA that signed the Redis server certificate"),
    redis_user: str | None = typer.Option(None, help="Redis ACL user (this worker's role)"),
    redis_password_file: Path | None = typer.Option(
        None, help="file holding the ACL user's password (or HELIARCH_REDIS_PASSWORD)"
    ),
) -> None:
    """Serve planet requests from the Redis bus until SIGTERM / Ctrl-C.

    Run more workers with the same --group (on any machine) to scale out. TLS and ACL
    settings also come from HELIARCH_REDIS_TLS_CERT / _TLS_KEY / _TLS_CA / _USER / _PASSWORD.
    """
    from redis.exceptions import RedisError

    from bus import RedisSecurity, read_password
    from heliarch._cli_errors import shown_url
    from planets.remote import DEFAULT_REDIS_URL, serve_planets

    url = redis or os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL

    def ready(name: str) -> None:
        print(f"ready {name} planets={','.join(planet)} prefix={prefix}", flush=True)

    try:
        security = RedisSecurity.from_env(
            tls_cert=str(tls_cert) if tls_cert else None,
            tls_key=str(tls_key) if tls_key else None,
            tls_ca=str(tls_ca) if tls_ca else None,
            username=redis_user,
            password=read_password(redis_password_file) if redis_password_file else None,
        )
        asyncio.run(
            serve_planets(
                url,
                planet,
                prefix=prefix,
                group=group,
                consumer=consumer,
                on_ready=ready,
                security=security,
            )
        )
    except RedisError as error:
        raise ValueError(f"--redis {shown_url(url)}: cannot reach Redis: {error}") from error
    print("stopped", flush=True)


REPLAY_EXIT_CODES = {
    0: "replayed, no divergence",
    1: "divergence (or a decision skipped)",
    2: "bad input: the journal cannot be read (unreachable Redis, bad key)",
    3: "journal invalid: tampered, truncated, empty or not a journal",
}
MAX_VIOLATIONS_SHOWN = 20


def replay(
    journal: str = typer.Argument(..., help="JSONL journal path, or a Redis URL (--key)"),
    key: str = typer.Option("heliarch:journal", help="stream key when JOURNAL is a Redis URL"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Verify a journal, re-run its decisions deterministically and report any divergence.

    The journal is verified first (sequence, hash chain, HMAC with HELIARCH_JOURNAL_KEY when
    set, stored series hashes, a decision for every request); nothing is replayed from an
    invalid one. LLM answers come from the journal (no model is called); a model level that
    failed when recorded fails again with the recorded error. Exit codes: 0 replayed, no
    divergence; 1 divergence or a skipped decision (e.g. recorded with custom planets, which
    the CLI cannot rebuild); 2 the journal cannot be read (unreachable Redis, bad key);
    3 journal invalid (each violation on stderr with its line).
    """
    from redis.exceptions import RedisError

    from bus import journal_secret
    from heliarch._cli_errors import shown_url
    from sun.replay import JournalInvalidError
    from sun.replay import replay as run_replay

    try:
        report = run_replay(journal, key=key, secret=journal_secret())
    except JournalInvalidError as error:
        shown = error.violations[:MAX_VIOLATIONS_SHOWN]
        for violation in shown:
            typer.echo(f"journal invalid: {violation}", err=True)
        if len(error.violations) > len(shown):
            more = len(error.violations) - len(shown)
            typer.echo(f"journal invalid: ... and {more} more violation(s)", err=True)
        raise typer.Exit(3) from error
    except (RedisError, OSError, ValueError) as error:
        typer.echo(f"cannot read journal {shown_url(journal)}: {error}", err=True)
        raise typer.Exit(2) from error
    if as_json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        _render(report)
    if not report.ok:
        raise typer.Exit(1)


def _render(report: ReplayReport) -> None:
    console.print(
        f"replayed {report.replayed}/{report.decisions} decisions, "
        f"{len(report.divergences)} diverged; LLM answers in journal {report.llm_answers}, "
        f"served {report.llm_served}, missing {report.llm_missing}, "
        f"recorded failures reproduced {report.llm_failures_reproduced}"
    )
    for reason in report.skipped:
        console.print(f"[yellow]skipped[/yellow] {reason}")
    if not report.divergences:
        console.print("[green]no divergence[/green]")
        return
    table = Table(title="divergences")
    for column in ("instrument", "as_of", "recorded", "replayed", "fields"):
        table.add_column(column)
    for item in report.divergences:
        table.add_row(
            item.instrument, item.as_of, item.recorded, item.replayed, ", ".join(item.fields)
        )
    console.print(table)
