"""Training the SentimentX student: the labelled data, its grouped split, training and export.

``load_labelled`` reads the bundled SemEval-2017 task 5 headlines and FiQA 2018 posts;
``grouped_split`` holds out whole groups of near-duplicate texts; ``train_sentimentx`` fits
the student (ridge over the shared features, ``planets.sentiment``) and writes the ONNX file
with its record; ``heldout_figures`` / ``evaluate_scores`` are the figures it stores.
Run: ``heliarch train sentiment`` or ``python -m learning.sentimentx``.
"""

from learning.sentimentx._data import (
    DATASETS,
    DEFAULT_DATA_DIR,
    LabelledText,
    Split,
    data_fingerprint,
    grouped_split,
    load_labelled,
    near_duplicate_groups,
)
from learning.sentimentx._eval import evaluate_scores, heldout_figures, pearson
from learning.sentimentx._train import (
    ALPHAS,
    Teacher,
    TrainReport,
    fit_featurizer,
    lexicon_teacher,
    train_sentimentx,
)

__all__ = [
    "ALPHAS",
    "DATASETS",
    "DEFAULT_DATA_DIR",
    "LabelledText",
    "Split",
    "Teacher",
    "TrainReport",
    "data_fingerprint",
    "evaluate_scores",
    "fit_featurizer",
    "grouped_split",
    "heldout_figures",
    "lexicon_teacher",
    "load_labelled",
    "near_duplicate_groups",
    "pearson",
    "train_sentimentx",
]
