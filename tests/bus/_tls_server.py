"""A TLS-only redis-server for the bus's TLS and ACL tests, started and stopped by them.

It listens on TLS only (``port 0``), requires client certificates (``tls-auth-clients yes``)
and loads the ACL file rendered by :func:`bus.render_acl`. Test certificates come from
``scripts/make_test_ca.sh``. Without a TLS-capable ``redis-server`` the tests skip (fail with
``HELIARCH_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
import redis
from _acl_helpers import PLANETS, PREFIX, SUNS, USERS

from bus import RedisSecurity, render_acl

ROOT = Path(__file__).resolve().parents[2]
MAKE_CA = ROOT / "scripts" / "make_test_ca.sh"


@dataclass(frozen=True)
class TlsServer:
    """A running TLS-only redis-server and the test credentials."""

    port: int
    certs: Path
    passwords: dict[str, str]

    @property
    def url(self) -> str:
        return f"rediss://127.0.0.1:{self.port}/0"

    def security(self, user: str, reply_namespace: str | None = None) -> RedisSecurity:
        """Credentials of ``user``: its own certificate and ACL login."""
        return RedisSecurity(
            tls_cert=str(self.certs / f"{user}.crt"),
            tls_key=str(self.certs / f"{user}.key"),
            tls_ca=str(self.certs / "ca.crt"),
            username=user,
            password=self.passwords[user],
            reply_namespace=reply_namespace,
        )

    def admin(self) -> redis.Redis:
        """A synchronous admin client."""
        security = self.security("admin")
        return redis.Redis.from_url(self.url, **security.redis_kwargs())


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("HELIARCH_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} and HELIARCH_REQUIRE_SERVICES=1")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(server: TlsServer, process: subprocess.Popen[bytes], output: Path) -> None:
    """Poll until the server answers PING over TLS (deadline 10 s)."""
    deadline = time.monotonic() + 10.0
    while True:
        if process.poll() is not None:
            _startup_failed(output)
        try:
            with server.admin() as client:
                if client.ping():
                    return
        except redis.exceptions.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"TLS redis-server not ready:\n{output.read_text()[-1500:]}")
        time.sleep(0.02)


def _startup_failed(output: Path) -> NoReturn:
    """Skip if redis-server lacks TLS; otherwise fail with its errors (e.g. a bad ACL file)."""
    text = output.read_text()
    markers = (" # ", "FATAL", ">>>", "Bad directive")
    detail = "\n".join([line for line in text.splitlines() if any(m in line for m in markers)])
    if "tls-port" in text and "Bad directive" in text:
        _unavailable(f"redis-server was built without TLS: {detail}")
    raise AssertionError(f"redis-server did not start:\n{detail[-1500:]}")


@contextlib.contextmanager
def running_tls_server(base: Path) -> Iterator[TlsServer]:
    """A TLS-only redis-server (client certificates required, rendered ACL) with its files
    under ``base``, stopped on leaving."""
    binary = shutil.which("redis-server")
    if binary is None:
        _unavailable("redis-server is not installed")
    certs = base / "certs"
    subprocess.run(["bash", str(MAKE_CA), str(certs), *USERS], check=True, capture_output=True)
    passwords = {user: f"pw-{user}-{os.getpid()}" for user in USERS}
    aclfile = base / "users.acl"
    aclfile.write_text(render_acl(PREFIX, SUNS, passwords, PLANETS))
    server = TlsServer(_free_port(), certs, passwords)
    output = base / "redis.out"
    options = {
        "port": "0",
        "bind": "127.0.0.1",
        "tls-port": str(server.port),
        "tls-cert-file": str(certs / "server.crt"),
        "tls-key-file": str(certs / "server.key"),
        "tls-ca-cert-file": str(certs / "ca.crt"),
        "tls-auth-clients": "yes",
        "aclfile": str(aclfile),
        "save": "",
        "appendonly": "no",
        "dir": str(base),
        "logfile": "",
    }
    args = [binary, *(arg for name, value in options.items() for arg in (f"--{name}", value))]
    with output.open("wb") as sink:
        process = subprocess.Popen(args, stdout=sink, stderr=subprocess.STDOUT)
    try:
        _wait_ready(server, process, output)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
