"""Settings from environment variables (``HELIARCH_*``) with embedded defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from planets import RiskLimits


class Settings(BaseSettings):
    """Runtime configuration; every field can be set as ``HELIARCH_<FIELD>``.

    ``sun_model`` / ``planet_model`` are model spec strings (see ``sun.build_chat_model``);
    ``None`` for ``sun_model`` means "local if installed, otherwise quant". ``backup_models``
    is a comma-separated list of specs in the environment (``HELIARCH_BACKUP_MODELS=a,b``).
    Risk limits nest: ``HELIARCH_LIMITS__MAX_VAR95=0.03``.
    """

    model_config = SettingsConfigDict(
        env_prefix="HELIARCH_", env_nested_delimiter="__", extra="ignore"
    )

    sun_model: str | None = None
    planet_model: str | None = None
    backup_models: Annotated[list[str], NoDecode] = Field(default_factory=list)
    data_dir: Path = Field(default_factory=lambda: Path.home() / ".heliarch")
    checkpoint_url: str | None = Field(
        default=None, description="postgresql://... to checkpoint in PostgreSQL; SQLite otherwise"
    )
    llm_timeout_s: float = 30.0
    llm_max_tokens: int = 256  # a 200-character rationale alone can take ~120 tokens
    local_n_ctx: int = Field(default=2048, gt=0, description="context length of a local model")
    local_n_threads: int = Field(default=2, gt=0, description="CPU threads of a local model")
    limits: RiskLimits = Field(default_factory=RiskLimits)

    @field_validator("backup_models", mode="before")
    @classmethod
    def _split_specs(cls, value: object) -> object:
        if isinstance(value, str):
            return [spec.strip() for spec in value.split(",") if spec.strip()]
        return value


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit keyword overrides applied on top."""
    return Settings.model_validate({k: v for k, v in overrides.items() if v is not None})
