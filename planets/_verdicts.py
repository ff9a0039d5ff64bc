"""``VerdictColumns``: the verdicts of many instruments as columns, one object per batch.

Why: a vectorized planet scores 500 instruments in one kernel call; building a
:class:`Verdict` per instrument and reading it back cost more than the kernel. A planet with
a ``verdict_columns(batch, rows)`` method returns its verdicts this way, and
:func:`planets.report_many` packages the reports straight from the columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from planets._base import Verdict


@dataclass(frozen=True)
class VerdictColumns:
    """Row ``j`` is the verdict on the ``j``-th scored instrument.

    Attributes:
        score: Raw scores (float64; clipped into [-1, 1] when packaged, as by ``package``).
        confidence: Raw confidences (float64; clipped into [0, 1] when packaged).
        recommendations: Per row, a tuple of texts.
        veto_reason: Per row, the veto reason or None (None for the whole column: no veto).
        critical_reason: Per row, the critical reason or None (None: nothing critical).
        extra_evidence: Per row, evidence the verdict adds (None: none on any row).
        source: The :class:`Verdict` objects the columns were read from, if any: a row
            packaged by the planet's own ``package`` gets its own verdict back.
        plain: Per row, whether every value has the type validation keeps unchanged
            (None: all rows, as the built-in planets build them).
    """

    score: np.ndarray
    confidence: np.ndarray
    recommendations: Sequence[tuple[str, ...]]
    veto_reason: Sequence[str | None] | None = None
    critical_reason: Sequence[str | None] | None = None
    extra_evidence: Sequence[Mapping[str, float]] | None = None
    source: Sequence[Verdict] | None = None
    plain: Sequence[bool] | None = None

    def __post_init__(self) -> None:
        n = len(self.recommendations)
        columns = (self.score, self.confidence, self.veto_reason, self.critical_reason,
                   self.extra_evidence, self.source, self.plain)  # fmt: skip
        if any(c is not None and len(c) != n for c in columns):
            raise ValueError(f"verdict columns of unequal lengths (recommendations: {n})")

    def __len__(self) -> int:
        return len(self.recommendations)

    @classmethod
    def of(cls, verdicts: Sequence[Verdict]) -> VerdictColumns:
        """The columns of ``verdicts`` (a row whose values validation would convert or refuse
        is marked not ``plain``: it is packaged by the planet's own ``package``)."""
        return cls(
            score=np.array([_float(v.score) for v in verdicts], dtype=np.float64),
            confidence=np.array([_float(v.confidence) for v in verdicts], dtype=np.float64),
            recommendations=[v.recommendations for v in verdicts],
            veto_reason=[v.veto_reason for v in verdicts],
            critical_reason=[v.critical_reason for v in verdicts],
            extra_evidence=[v.extra_evidence for v in verdicts],
            source=verdicts,
            plain=[_plain(v) for v in verdicts],
        )

    def verdict(self, j: int) -> Verdict:
        """Row ``j`` as a :class:`Verdict` (the source's own when there is one)."""
        if self.source is not None:
            return self.source[j]
        return Verdict(
            score=float(self.score[j]),
            confidence=float(self.confidence[j]),
            recommendations=self.recommendations[j],
            veto_reason=None if self.veto_reason is None else self.veto_reason[j],
            critical_reason=None if self.critical_reason is None else self.critical_reason[j],
            extra_evidence={} if self.extra_evidence is None else self.extra_evidence[j],
        )

    def verdicts(self) -> list[Verdict]:
        """Every row as a :class:`Verdict`."""
        return [self.verdict(j) for j in range(len(self))]


def _float(value: object) -> float:
    """A float as it is; anything else NaN (its row is not plain and falls back)."""
    return value if type(value) is float else float("nan")


def _plain(verdict: Verdict) -> bool:
    """Whether validation would keep the verdict's values unchanged (or refuse them the same
    way the array check does): float numbers, a tuple of texts, non-empty reasons, float
    evidence under text keys."""
    if type(verdict.score) is not float or type(verdict.confidence) is not float:
        return False
    recommendations = verdict.recommendations
    if type(recommendations) is not tuple or any(type(r) is not str for r in recommendations):
        return False
    for reason in (verdict.veto_reason, verdict.critical_reason):
        if reason is not None and (type(reason) is not str or not reason):
            return False
    extra = verdict.extra_evidence
    return all(type(k) is str and type(v) is float for k, v in extra.items())
