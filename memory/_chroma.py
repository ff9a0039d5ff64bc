"""ChromaDB clients: embedded ``PersistentClient`` under a directory, or a server by URL.

Collections are always created with ``embedding_function=None`` and ``hnsw:space=cosine``:
heliarch passes every embedding explicitly, so Chroma's default embedding function (which
downloads a model) is never used. Telemetry is disabled.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

CHROMA_URL_ENV = "HELIARCH_CHROMA_URL"


def open_client(path: str | Path | None = None, url: str | None = None) -> Any:
    """A Chroma client: ``HttpClient`` when ``url`` (``http(s)://host:port``) is given, else an
    embedded ``PersistentClient`` storing under ``path``.

    Raises:
        ValueError: if neither is given.
    """
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False, allow_reset=True)
    if url:
        parsed = urlparse(url)
        return chromadb.HttpClient(
            host=parsed.hostname or "localhost",
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=settings,
        )
    if path is None:
        raise ValueError("memory needs a directory (path=...) or a Chroma server (url=...)")
    Path(path).mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def collection(client: Any, name: str) -> Any:
    """Get or create collection ``name`` (cosine space, no embedding function)."""
    return client.get_or_create_collection(
        name=name, metadata={"hnsw:space": "cosine"}, embedding_function=None
    )


def url_from_env() -> str | None:
    """The Chroma server URL configured in ``HELIARCH_CHROMA_URL`` (None: embedded)."""
    return os.environ.get(CHROMA_URL_ENV) or None


def get_all(coll: Any, page: int = 5000, **kwargs: Any) -> dict[str, list[Any]]:
    """Every record of ``coll`` (paged ``get``), ids/embeddings/metadatas/documents."""
    out: dict[str, list[Any]] = {"ids": [], "embeddings": [], "metadatas": [], "documents": []}
    offset = 0
    while True:
        batch = coll.get(
            limit=page,
            offset=offset,
            include=["embeddings", "metadatas", "documents"],
            **kwargs,
        )
        ids = batch["ids"]
        if not ids:
            break
        out["ids"].extend(ids)
        embeddings = batch.get("embeddings")
        out["embeddings"].extend(list(embeddings) if embeddings is not None else [None] * len(ids))
        out["metadatas"].extend(batch.get("metadatas") or [{}] * len(ids))
        out["documents"].extend(batch.get("documents") or [""] * len(ids))
        offset += len(ids)
        if len(ids) < page:
            break
    return out
