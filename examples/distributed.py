"""Planets as worker processes on Redis; a sun in this process consults them remotely.

    python examples/distributed.py            # REDIS_URL or redis://127.0.0.1:6379/0

Starts one ``heliarch worker`` process per planet (scale out by starting more with the same
group, on any machine), makes decisions on the bundled GOOG bars, checks that each equals the
in-process decision, prints them and stops the workers with SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from uuid import uuid4

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bus import MarketSnapshot, load_csv  # noqa: E402
from planets import default_planets  # noqa: E402
from planets.remote import remote_planets  # noqa: E402
from sun import Sun  # noqa: E402

PLANETS = ["technical", "risk", "sentiment", "execution"]
DATES = ["2008-10-01", "2010-06-01", "2012-06-01", "2013-03-01"]


def start_workers(url: str, prefix: str) -> list[subprocess.Popen[str]]:
    cli = "from heliarch.cli import main; main()"  # the `heliarch` console script
    command = [sys.executable, "-c", cli, "worker", "--redis", url, "--prefix", prefix]
    workers = []
    for planet in PLANETS:
        workers.append(
            subprocess.Popen(
                [*command, "--planet", planet],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
        )
    for worker in workers:
        assert worker.stdout is not None
        print("worker", worker.pid, worker.stdout.readline().strip())
    return workers


def main() -> None:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"heliarch:example:{uuid4().hex[:8]}:"
    goog = load_csv(ROOT / "examples" / "data" / "GOOG.csv", "GOOG")
    workers = start_workers(url, prefix)
    try:
        with (
            remote_planets(url, PLANETS, prefix=prefix) as remote,
            Sun("quant", checkpoint="none", planets={**default_planets(), **remote}) as sun,
            Sun("quant", checkpoint="none") as local,
        ):
            remote.wait_for_workers(30)
            for day in DATES:
                snapshot = MarketSnapshot.at(datetime.fromisoformat(day), {"GOOG": goog})
                decision = sun.decide(snapshot)
                same = decision == local.decide(snapshot)
                intent = decision.order_intent
                order = f"{intent.side} {intent.quantity:.0f}" if intent else "no order"
                print(
                    f"{day} {decision.action:4} target {decision.target_position:+.3f} "
                    f"conf {decision.confidence:.2f} [{order}] same as in-process: {same}"
                )
                for report in decision.planet_reports:
                    print(
                        f"    {report.planet:10} score {report.score:+.3f} {report.recommendations[:1]}"
                    )
            print("requests per remote planet:", {n: p.requests for n, p in remote.items()})
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        codes = [worker.wait(timeout=15) for worker in workers]
        print("workers stopped, exit codes", codes)
        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


if __name__ == "__main__":
    main()
