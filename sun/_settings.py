"""Settings from environment variables (``HELIARCH_*``) with embedded defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from planets import RiskLimits


class Settings(BaseSettings):
    """Runtime configuration; every field can be set as ``HELIARCH_<FIELD>``.

    ``sun_model`` / ``planet_model`` are model spec strings (see ``sun.build_chat_model``);
    ``None`` for ``sun_model`` means "local if installed, otherwise quant". Risk limits nest:
    ``HELIARCH_LIMITS__MAX_VAR95=0.03``.
    """

    model_config = SettingsConfigDict(
        env_prefix="HELIARCH_", env_nested_delimiter="__", extra="ignore"
    )

    sun_model: str | None = None
    planet_model: str | None = None
    data_dir: Path = Field(default_factory=lambda: Path.home() / ".heliarch")
    checkpoint_url: str | None = Field(
        default=None, description="postgresql://... to checkpoint in PostgreSQL; SQLite otherwise"
    )
    llm_timeout_s: float = 30.0
    llm_max_tokens: int = 160
    limits: RiskLimits = Field(default_factory=RiskLimits)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit keyword overrides applied on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
