"""heliarch learning: outcome labelling without look-ahead, performance tracking, trust weights
(Hedge with fixed share) and lessons distilled into semantic memory.

``LearningLoop`` ties them together; ``OutcomeLabeler`` labels a decision at bar t only when bar
t + horizon arrives; ``HedgeTrust`` learns planet weights for the quant reasoner and the
council's aggregator (any ``Mapping[str, float]`` consumer).
"""

from learning._calibration import ConfidenceCalibrator, pool_adjacent_violators
from learning._distill import Distiller, LlmDistiller, QuantDistiller
from learning._loop import NON_DIRECTIONAL, LearningLoop
from learning._outcomes import Labelled, OutcomeLabeler, PendingLabel
from learning._regime import REGIMES, market_regime
from learning._tracker import SUN, PerformanceTracker, Stats, planet_return
from learning._weights import HedgeTrust, planet_loss
from learning.sentimentx import (
    LabelledText,
    Split,
    TrainReport,
    fit_featurizer,
    grouped_split,
    heldout_figures,
    lexicon_teacher,
    load_labelled,
    train_sentimentx,
)

__all__ = [
    "ConfidenceCalibrator",
    "pool_adjacent_violators",
    "NON_DIRECTIONAL",
    "REGIMES",
    "SUN",
    "Distiller",
    "HedgeTrust",
    "Labelled",
    "LabelledText",
    "LearningLoop",
    "LlmDistiller",
    "OutcomeLabeler",
    "PendingLabel",
    "PerformanceTracker",
    "QuantDistiller",
    "Split",
    "Stats",
    "TrainReport",
    "fit_featurizer",
    "grouped_split",
    "lexicon_teacher",
    "load_labelled",
    "market_regime",
    "planet_loss",
    "planet_return",
    "heldout_figures",
    "train_sentimentx",
]
