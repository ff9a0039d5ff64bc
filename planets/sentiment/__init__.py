"""Sentiment of headlines: the lexicon baseline, the SentimentX student and the planet.

* ``score_text`` — the transparent hand-written finance lexicon (``planets/lexicon``), the
  baseline and the student's offline teacher;
* ``SentimentX`` — the distilled student (``planets/models/sentimentx.onnx``, onnxruntime),
  falling back to the lexicon and saying so; its text handling (``Featurizer``,
  ``extract_grams``, ``lexicon_features``) is shared with training (``learning.sentimentx``);
* ``SentimentPlanet`` — distinct recent headlines about an instrument, scored and weighed by
  source, over a ``window`` of ``SENTIMENT_WINDOWS``.
"""

from planets.sentiment._lexicon import (
    DEFAULT_LEXICON_PATH,
    SentimentScore,
    load_lexicon,
    score_text,
    score_texts,
)
from planets.sentiment._planet import MAX_CONFIDENCE, SOURCE_CAP, SentimentPlanet, source_key
from planets.sentiment._planet import WINDOWS as SENTIMENT_WINDOWS
from planets.sentiment._student import DEFAULT_MODEL_PATH as DEFAULT_SENTIMENTX_PATH
from planets.sentiment._student import (
    LEXICON_CONFIDENCE,
    SentimentX,
    SentimentXScore,
    default_scorer,
)
from planets.sentiment._student import MODEL_FORMAT as SENTIMENTX_FORMAT
from planets.sentiment._text import (
    MAX_CHARS,
    Featurizer,
    dedupe_key,
    extract_grams,
    lexicon_features,
    normalize_text,
)

__all__ = [
    "DEFAULT_LEXICON_PATH",
    "DEFAULT_SENTIMENTX_PATH",
    "LEXICON_CONFIDENCE",
    "MAX_CHARS",
    "MAX_CONFIDENCE",
    "SENTIMENTX_FORMAT",
    "SENTIMENT_WINDOWS",
    "SOURCE_CAP",
    "Featurizer",
    "SentimentPlanet",
    "SentimentScore",
    "SentimentX",
    "SentimentXScore",
    "dedupe_key",
    "default_scorer",
    "extract_grams",
    "lexicon_features",
    "load_lexicon",
    "normalize_text",
    "score_text",
    "score_texts",
    "source_key",
]
