"""What the ACL tests share: the key prefix, the suns, planets and users of the test pool."""

from __future__ import annotations

PREFIX = "tls-test:"
SUNS = ("alpha", "beta")
PLANETS = ("risk", "technical")
USERS = ("admin", "sun-alpha", "sun-beta", "planet-risk", "planet-technical", "shard-worker",
         "shard-coordinator")  # fmt: skip


def passwords() -> dict[str, str]:
    """One test password per user."""
    return {user: f"pw-{user}" for user in USERS}
