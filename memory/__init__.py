"""heliarch memory: short-term, long-term (ChromaDB), episodic and semantic memory; recall.

    from memory import UniversalMemory
    memory = UniversalMemory("~/.heliarch/memory")          # embedded ChromaDB
    sun = Sun("quant", recaller=memory.recaller(k=3, char_budget=600))

Situations are embedded by :func:`situation_vector` (deterministic, scale-free moon features),
so recall works offline and means "a similar market state". Only situations whose outcome was
complete at the query time are ever recalled.
"""

from memory._chroma import CHROMA_URL_ENV, open_client
from memory._embedding import (
    DIM,
    REQUIRED_MOONS,
    SITUATION_FEATURES,
    HashingTextEmbeddings,
    situation_features,
    situation_vector,
)
from memory._longterm import LongTermMemory, importance_of
from memory._recall_index import RecallWeights
from memory._records import Lesson, Outcome, Recollection, Situation, from_epoch, to_epoch
from memory._stores import EpisodicMemory, SemanticMemory, ShortTermMemory
from memory._universal import MemoryRecaller, UniversalMemory

__all__ = [
    "CHROMA_URL_ENV",
    "DIM",
    "REQUIRED_MOONS",
    "SITUATION_FEATURES",
    "EpisodicMemory",
    "HashingTextEmbeddings",
    "Lesson",
    "LongTermMemory",
    "MemoryRecaller",
    "Outcome",
    "RecallWeights",
    "Recollection",
    "SemanticMemory",
    "ShortTermMemory",
    "Situation",
    "UniversalMemory",
    "from_epoch",
    "importance_of",
    "open_client",
    "situation_features",
    "situation_vector",
    "to_epoch",
]
