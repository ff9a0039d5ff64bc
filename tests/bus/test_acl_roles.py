"""Rendering the Redis ACL file from the bundled roles, and the bus's TLS / ACL settings as
redis-py receives them (no server; the server tests are in test_tls_acl.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from _acl_helpers import PLANETS, PREFIX, SUNS, USERS, passwords

from bus import RedisBus, RedisSecurity, acl_users, render_acl
from bus._security import escape_glob, load_roles, read_password, reply_address


def test_acl_users_cover_every_role() -> None:
    users = {u.name: u for u in acl_users(PREFIX, SUNS, PLANETS)}
    assert sorted(users) == sorted(USERS)
    alpha = users["sun-alpha"].keys
    assert "~tls-test:bus:_reply.alpha.*:inbox" in alpha
    assert "~tls-test:bus:risk:lane[0-3]" in alpha
    assert "~tls-test:bus:technical:control" in alpha
    assert not any("beta" in k for k in alpha)
    risk = users["planet-risk"].keys
    assert "~tls-test:bus:risk:*" in risk
    assert not any("technical" in k for k in risk)
    assert {k for k in risk if "_reply" in k} == {
        "%W~tls-test:bus:_reply.alpha.*:inbox",
        "%W~tls-test:bus:_reply.beta.*:inbox",
    }
    assert "+xreadgroup" in users["planet-risk"].commands
    assert "+xreadgroup" not in users["sun-alpha"].commands


def test_render_acl_disables_default_user_and_hashespasswords() -> None:
    text = render_acl(PREFIX, SUNS, passwords(), PLANETS)
    lines = text.splitlines()
    assert lines[0].startswith("user default off")
    assert all(line.startswith("user ") for line in lines)
    assert "pw-" not in text
    admin = next(line for line in lines if line.startswith("user admin "))
    assert " on #" in admin and "+@all" in admin


def test_render_acl_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="no password"):
        render_acl(PREFIX, SUNS, {"admin": "x"}, PLANETS)
    with pytest.raises(ValueError, match="bad sun id"):
        render_acl(PREFIX, ["al*pha"], passwords(), PLANETS)
    with pytest.raises(ValueError, match="reserved"):
        render_acl(PREFIX, SUNS, passwords(), ["dead"])
    with pytest.raises(ValueError, match="prefix"):
        render_acl("has space:", SUNS, passwords(), PLANETS)


def test_prefix_is_glob_escaped() -> None:
    assert escape_glob("a*b?[c]\\:") == "a\\*b\\?\\[c\\]\\\\:"
    users = acl_users("dep[1]:", ["alpha"], ["risk"])
    assert "~dep\\[1\\]:bus:risk:*" in next(u for u in users if u.name == "planet-risk").keys


def test_bundled_roles_load() -> None:
    roles = load_roles()
    assert set(roles) == {"admin", "sun", "planet", "shard_worker", "shard_coordinator"}
    assert roles["sun"].for_each == "sun" and roles["planet"].for_each == "planet"


def test_security_settings_for_redis_py() -> None:
    plain = RedisSecurity()
    assert not plain.tls and plain.redis_kwargs() == {}
    assert plain.url("redis://h:1/0") == "redis://h:1/0"
    secure = RedisSecurity("c.pem", "k.pem", "ca.pem", "planet-risk", "s3cret")
    assert secure.url("redis://h:1/0") == "rediss://h:1/0"
    assert secure.redis_kwargs() == {
        "username": "planet-risk",
        "password": "s3cret",
        "ssl_certfile": "c.pem",
        "ssl_keyfile": "k.pem",
        "ssl_ca_certs": "ca.pem",
        "ssl_cert_reqs": "required",
        "ssl_check_hostname": True,
    }
    assert "s3cret" not in repr(secure)
    with pytest.raises(ValueError, match="unix"):
        secure.url("unix:///tmp/r.sock")
    with pytest.raises(ValueError, match="go together"):
        RedisSecurity(tls_cert="c.pem")
    with pytest.raises(ValueError, match="needs a password"):
        RedisSecurity(username="admin")
    assert reply_address("alpha", "abc") == "_reply.alpha.abc"


async def test_redis_bus_passes_security_to_redis_py() -> None:
    plain = RedisBus("redis://127.0.0.1:1/0", prefix=PREFIX)
    secure = RedisBus(
        "redis://127.0.0.1:1/0",
        prefix=PREFIX,
        security=RedisSecurity("c.pem", "k.pem", "ca.pem", "sun-alpha", "pw", True, "alpha"),
    )
    try:
        assert plain.reply_address == f"_reply.{plain.instance_id}"
        assert plain.client.connection_pool.connection_class is redis.asyncio.Connection
        assert "ssl_certfile" not in plain.client.connection_pool.connection_kwargs
        assert secure.reply_address == f"_reply.alpha.{secure.instance_id}"
        pool = secure.client.connection_pool
        assert pool.connection_class is redis.asyncio.SSLConnection
        assert pool.connection_kwargs["ssl_certfile"] == "c.pem"
        assert pool.connection_kwargs["username"] == "sun-alpha"
    finally:
        await plain.close()
        await secure.close()


def test_security_from_env_and_flags(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    env = {
        "HELIARCH_REDIS_TLS_CA": "ca.pem",
        "HELIARCH_REDIS_USER": "sun-alpha",
        "HELIARCH_REDIS_PASSWORD_FILE": str(secret),
        "HELIARCH_REDIS_REPLY_NAMESPACE": "alpha",
    }
    security = RedisSecurity.from_env(env, tls_cert="c.pem", tls_key="k.pem", tls_ca=None)
    assert security == RedisSecurity(
        "c.pem", "k.pem", "ca.pem", "sun-alpha", "from-file", True, "alpha"
    )
    assert read_password(secret) == "from-file"
    with pytest.raises(TypeError, match="unknown"):
        RedisSecurity.from_env({}, tls_crt="x")
