"""TLS and ACLs for the Redis bus: client credentials and the role ACL file.

:class:`RedisSecurity` holds one client's TLS files (client certificate, key, CA) and ACL
login (username, password); :class:`~bus.RedisBus` passes it to redis-py. With
``reply_namespace`` (a sun id) the bus's reply inbox is ``bus:_reply.<id>.<instance>:inbox``,
so the ACL can give each sun its own inbox.

:func:`render_acl` turns the roles in ``bus/acl/roles.toml`` (admin, one user per sun, one
per planet worker) into a Redis ACL file for a key prefix, sun ids and planets.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from bus._envelope import REPLY_PREFIX

ROLES_FILE = Path(__file__).with_name("acl") / "roles.toml"
"""The bundled role definitions."""

DEFAULT_PLANETS = ("technical", "risk", "sentiment", "execution")
"""The built-in planets (worker roles rendered by default)."""

ENV_PREFIX = "HELIARCH_REDIS_"
"""Environment variables read by :meth:`RedisSecurity.from_env` start with this."""

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_RESERVED = frozenset({"sun", "idem", "dead", "recipients"})
_ENV_FIELDS = {
    "tls_cert": "TLS_CERT",
    "tls_key": "TLS_KEY",
    "tls_ca": "TLS_CA",
    "username": "USER",
    "password": "PASSWORD",
    "reply_namespace": "REPLY_NAMESPACE",
}


@dataclass(frozen=True)
class RedisSecurity:
    """TLS files and ACL login of one Redis client (all optional; empty means plain Redis).

    Attributes:
        tls_cert: Client certificate (PEM) presented to a server with ``tls-auth-clients``.
        tls_key: Private key of ``tls_cert``.
        tls_ca: CA bundle that signed the server certificate (default: system CAs).
        username: ACL user (e.g. ``planet-risk``, ``sun-main``).
        password: ACL password (never shown in ``repr``).
        check_hostname: Verify the server certificate matches the URL's host.
        reply_namespace: Sun id naming this bus's reply inbox (``_reply.<id>.<instance>``).
    """

    tls_cert: str | None = None
    tls_key: str | None = None
    tls_ca: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    check_hostname: bool = True
    reply_namespace: str | None = None

    def __post_init__(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if self.username is not None and self.password is None:
            raise ValueError(f"ACL user {self.username!r} needs a password")
        if self.reply_namespace is not None:
            check_id(self.reply_namespace, "reply_namespace")

    @property
    def tls(self) -> bool:
        """Whether the connection uses TLS."""
        return any(p is not None for p in (self.tls_cert, self.tls_key, self.tls_ca))

    def url(self, url: str) -> str:
        """``url`` with the ``rediss://`` scheme when TLS is configured.

        Raises:
            ValueError: for TLS over a ``unix://`` socket.
        """
        if not self.tls or url.startswith("rediss://"):
            return url
        if url.startswith("redis://"):
            return "rediss://" + url.removeprefix("redis://")
        raise ValueError(f"TLS needs a redis:// or rediss:// URL, not {url.split(':', 1)[0]}")

    def redis_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``redis.asyncio.Redis.from_url`` (credentials in the URL win)."""
        kwargs: dict[str, Any] = {}
        if self.username is not None:
            kwargs["username"] = self.username
        if self.password is not None:
            kwargs["password"] = self.password
        if self.tls:
            kwargs |= {
                "ssl_certfile": self.tls_cert,
                "ssl_keyfile": self.tls_key,
                "ssl_ca_certs": self.tls_ca,
                "ssl_cert_reqs": "required",
                "ssl_check_hostname": self.check_hostname,
            }
        return kwargs

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **given: str | bool | None
    ) -> RedisSecurity:
        """Settings from ``HELIARCH_REDIS_*`` variables, overridden by non-None ``given``.

        Variables: ``TLS_CERT``, ``TLS_KEY``, ``TLS_CA``, ``USER``, ``PASSWORD`` (or
        ``PASSWORD_FILE``), ``REPLY_NAMESPACE``; ``given`` takes field names (CLI flags).
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            name: env.get(ENV_PREFIX + suffix) or None for name, suffix in _ENV_FIELDS.items()
        }
        password_file = env.get(ENV_PREFIX + "PASSWORD_FILE")
        if values["password"] is None and password_file:
            values["password"] = read_password(password_file)
        unknown = set(given) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown RedisSecurity fields {sorted(unknown)}")
        values |= {k: v for k, v in given.items() if v is not None}
        return cls(**values)


def read_password(path: str | Path) -> str:
    """The password stored in ``path`` (first line, without the line end)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0]:
        raise ValueError(f"no password in {path}")
    return lines[0]


def reply_address(namespace: str, instance_id: str) -> str:
    """The reply address of a bus instance owned by sun ``namespace``."""
    return f"{REPLY_PREFIX}{check_id(namespace, 'reply namespace')}.{instance_id}"


def check_id(value: str, what: str = "id") -> str:
    """``value`` if it is a valid sun id / planet name in an ACL (letters, digits, ``_-``)."""
    if not _ID.match(value):
        raise ValueError(f"bad {what} {value!r}: use letters, digits, '_' and '-' (max 64)")
    return value


# -- ACL roles -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AclRole:
    """One role of ``roles.toml``: rendered as one ACL user per identity."""

    name: str
    user: str
    commands: tuple[str, ...]
    keys: tuple[str, ...]
    for_each: str | None = None

    def users(self, prefix: str, suns: Sequence[str], planets: Sequence[str]) -> list[AclUser]:
        """The ACL users of this role for a deployment."""
        space = {"sun": suns, "planet": planets}
        identities = space[self.for_each] if self.for_each is not None else [""]
        users = []
        for identity in identities:
            fixed = {"prefix": escape_glob(prefix)}
            if self.for_each is not None:
                fixed[self.for_each] = identity
            keys = [k for pattern in self.keys for k in _expand(pattern, fixed, space)]
            users.append(AclUser(self.user.format(**fixed), self.commands, tuple(keys)))
        return users


@dataclass(frozen=True)
class AclUser:
    """One rendered ACL user (without its password)."""

    name: str
    commands: tuple[str, ...]
    keys: tuple[str, ...]

    def line(self, password: str) -> str:
        """The ACL file line of this user, storing only the password's SHA-256."""
        digest = hashlib.sha256(password.encode("utf-8")).hexdigest()
        rules = ["on", f"#{digest}", "resetkeys", "resetchannels", "-@all", *self.commands]
        return " ".join(["user", self.name, *rules, *self.keys])


def load_roles(path: str | Path = ROLES_FILE) -> dict[str, AclRole]:
    """The roles defined in a roles TOML file (default: the bundled one)."""
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    roles = {}
    for name, spec in data.items():
        for_each = spec.get("for_each")
        if for_each not in (None, "sun", "planet"):
            raise ValueError(f"role {name}: for_each must be 'sun' or 'planet'")
        roles[name] = AclRole(
            name, spec["user"], tuple(spec["commands"]), tuple(spec["keys"]), for_each
        )
    return roles


def acl_users(
    prefix: str,
    sun_ids: Sequence[str],
    planets: Sequence[str] = DEFAULT_PLANETS,
    roles: Mapping[str, AclRole] | None = None,
) -> list[AclUser]:
    """Every ACL user of a deployment (admin, ``sun-<id>`` per sun, ``planet-<name>``)."""
    _check_names(prefix, sun_ids, planets)
    roles = load_roles() if roles is None else roles
    return [u for role in roles.values() for u in role.users(prefix, sun_ids, planets)]


def render_acl(
    prefix: str,
    sun_ids: Sequence[str],
    passwords: Mapping[str, str],
    planets: Sequence[str] = DEFAULT_PLANETS,
    roles: Mapping[str, AclRole] | None = None,
) -> str:
    """A Redis ACL file (``aclfile``) for one deployment; the default user is disabled.

    Args:
        prefix: Key prefix of the deployment (as given to ``RedisBus``).
        sun_ids: Ids of the suns (their ``reply_namespace``).
        passwords: Password of every user by name (see :func:`acl_users`).
        planets: Planets served by workers.
        roles: Role definitions (default: ``bus/acl/roles.toml``).

    Raises:
        ValueError: on a bad id, a reserved planet name or a user without password.
    """
    users = acl_users(prefix, sun_ids, planets, roles)
    missing = [u.name for u in users if not passwords.get(u.name)]
    if missing:
        raise ValueError(f"no password for ACL users {missing}")
    lines = [  # an ACL file has no comment syntax
        "user default off resetkeys resetchannels -@all",
        *(u.line(passwords[u.name]) for u in users),
    ]
    return "\n".join(lines) + "\n"


def escape_glob(text: str) -> str:
    """``text`` as a literal in a Redis glob pattern."""
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)


def _expand(
    pattern: str, fixed: Mapping[str, str], space: Mapping[str, Sequence[str]]
) -> Iterable[str]:
    """``pattern`` formatted once per value of each placeholder not in ``fixed``."""
    open_names = [n for n in space if "{" + n + "}" in pattern and n not in fixed]
    if not open_names:
        return [pattern.format(**fixed)]
    name, rest = open_names[0], {**fixed}
    out: list[str] = []
    for value in space[name]:
        rest[name] = value
        out.extend(_expand(pattern, rest, space))
    return out


def _check_names(prefix: str, sun_ids: Sequence[str], planets: Sequence[str]) -> None:
    if not prefix or any(c.isspace() for c in prefix):
        raise ValueError(f"bad key prefix {prefix!r}: non-empty, without whitespace")
    for sun in sun_ids:
        check_id(sun, "sun id")
    for planet in planets:
        if check_id(planet, "planet") in _RESERVED:
            raise ValueError(f"planet name {planet!r} is reserved in the key layout")
    if len(set(sun_ids)) != len(sun_ids) or len(set(planets)) != len(planets):
        raise ValueError("sun ids and planets must be unique")
