"""Errors a policy file can have, each naming file, line and reason."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PolicyError:
    """One problem in a policy file.

    Attributes:
        file: the policy file's path as given.
        line: 1-based line of the offending element (0 when unknown).
        path: dotted location inside the document, e.g. ``rules[0].plan.nodes[2].depends_on``.
        reason: what is wrong, in one sentence.
    """

    file: str
    line: int
    path: str
    reason: str

    def __str__(self) -> str:
        where = f" (at {self.path})" if self.path else ""
        return f"{self.file}:{self.line}: {self.reason}{where}"


class PolicyLoadError(ValueError):
    """A policy file failed validation; ``errors`` lists every problem found."""

    def __init__(self, errors: list[PolicyError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(error) for error in self.errors))
