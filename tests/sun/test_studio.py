"""LangGraph Studio: `langgraph dev` serves the sun graph from langgraph.json."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_langgraph_dev_runs_the_sun_graph(tmp_path: Path) -> None:
    pytest.importorskip("langgraph_api", reason="needs the 'studio' extra")
    from langgraph_sdk import get_sync_client

    cli = shutil.which("langgraph") or str(Path(sys.executable).parent / "langgraph")
    port = _free_port()
    env = {
        **os.environ,
        "HELIARCH_SUN_MODEL": "quant",
        "HELIARCH_DATA_DIR": str(tmp_path),
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGSMITH_TRACING": "false",
    }
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [
            cli,
            "dev",
            "--no-browser",
            "--no-reload",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--config",
            "langgraph.json",
            "--allow-blocking",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        client = get_sync_client(url=f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 90
        while True:
            try:
                assistants = client.assistants.search(graph_id="sun")
                break
            except Exception:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((tmp_path / "server.log").read_text()[-3000:]) from None
                time.sleep(1)
        assert assistants, "the sun graph is not registered"
        request = {
            "csv": str(ROOT / "examples/data/GOOG.csv"),
            "symbol": "GOOG",
            "as_of": "2012-06-01",
        }
        output = client.runs.wait(None, "sun", input={"request": request})
        decision = output["decision"]
        assert decision["instrument"] == "GOOG"
        assert decision["reasoner"] == "quant"
        assert {r["planet"] for r in decision["planet_reports"]} >= {"technical", "risk"}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
