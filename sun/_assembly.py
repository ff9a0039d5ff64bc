"""The sun's model chain, assembled from its spec, the overrides and backups in
:class:`~sun.ModelConfig` and the mesh's deep tier, each level behind the LLM response cache when
one is set; and the authority each level is granted (measured, stored or shipped)."""

from __future__ import annotations

from typing import Any

from sun._config import ModelConfig
from sun._grants import MODEL_CHECKS_FILE, ModelCheckStore, grant_for
from sun._settings import Settings
from sun.llm import (
    CachingChatModel,
    StructuredLLM,
    build_chat_model,
    parse_model_spec,
)
from sun.mesh import choose_model
from sun.resilience import ChainPolicy, FallbackChain, HealthBoard


class ModelAssembly:
    """Builds model levels; remembers the labels it built itself from a spec (their authority
    may come from the shipped measurement, an injected chat model's may not)."""

    def __init__(
        self,
        settings: Settings,
        models: ModelConfig,
        chain_policy: ChainPolicy,
        health: HealthBoard,
    ) -> None:
        self.settings, self.models, self.chain_policy, self.health = (
            settings,
            models,
            chain_policy,
            health,
        )
        self.built: set[str] = set()

    def chain(self, model_spec: str) -> FallbackChain | None:
        """The fallback chain of ``model_spec`` and the backups (None for a model-free sun)."""
        spec = parse_model_spec(model_spec)
        models: list[tuple[str, StructuredLLM]] = []
        mesh = self.models.mesh
        if mesh is not None and mesh.deep is not None:
            models.append(self.backup(choose_model(mesh.deep, mesh.registry)))
        elif self.models.chat_model is not None:
            models.append(self._structured(spec.label, self.models.chat_model))
        elif spec.is_llm:
            models.append(self._build(model_spec))
        if not models:
            return None
        backups = self.models.backup_models
        if backups is None:
            backups = list(self.settings.backup_models)
        models.extend(self.backup(backup) for backup in backups)
        return FallbackChain.build(
            models, self.chain_policy, health=self.health, clock=self.models.clock
        )

    def backup(self, backup: Any) -> tuple[str, StructuredLLM]:
        """One model level from a spec, a ``(label, chat model)`` pair or a chat model."""
        if isinstance(backup, str):
            return self._build(backup)
        if isinstance(backup, tuple):
            label, model = backup
            return self._structured(label, model)
        label = f"model:{getattr(backup, '_llm_type', type(backup).__name__)}"
        return self._structured(label, backup)

    def grant_authority(self, chain: FallbackChain | None) -> dict[str, dict[str, Any]]:
        """Set each level's authority; per level, the grant and where it came from."""
        granted: dict[str, dict[str, Any]] = {}
        if chain is None:
            return granted
        store = ModelCheckStore(self.settings.data_dir / MODEL_CHECKS_FILE)
        for level in chain.levels:
            record = grant_for(
                level.label,
                level.reasoner.prompt,
                self.models.authority,
                store,
                measured=level.label in self.built,
            )
            level.reasoner.set_authority(record["authority"], self.models.authority_band)
            granted[level.name] = record
        return granted

    def _build(self, spec: str) -> tuple[str, StructuredLLM]:
        parsed = parse_model_spec(spec)
        if not parsed.is_llm:
            raise ValueError(f"backup model {spec!r} is not an LLM (the council follows them)")
        model = build_chat_model(
            parsed,
            max_tokens=self.settings.llm_max_tokens,
            timeout_s=self.chain_policy.timeout_s,
            n_ctx=self.settings.local_n_ctx,
            n_threads=self.settings.local_n_threads,
        )
        self.built.add(parsed.label)
        return self._structured(parsed.label, model)

    def _structured(self, label: str, model: Any) -> tuple[str, StructuredLLM]:
        """A counted structured caller for ``model``, behind the LLM response cache if set."""
        if self.models.llm_cache is not None:
            model = CachingChatModel(
                inner=model, response_cache=self.models.llm_cache, model_label=label
            )
        return label, StructuredLLM(model, label)
