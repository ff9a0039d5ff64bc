"""CEL conditions: compile once, check against a profile's fields, evaluate safely.

The CEL runtime (``common-expression-language``) parses but has no static type checker, so
:func:`check_expression` dry-runs each expression against typed sample values ("all zero"
and "all one") to surface type errors (``double + int``, ``string > double``) at load time.
Missing map keys during the dry run are not errors: node ``facts`` are only known at run time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cel

_COMPREHENSION = r"\b(?:all|exists|exists_one|map|filter)\(\s*{name}\s*,"


@dataclass(frozen=True)
class Compiled:
    """A compiled CEL expression with the variables it reads."""

    source: str
    program: Any
    variables: frozenset[str]


def compile_expression(source: str) -> Compiled:
    """Compile ``source``; raises ValueError with the parser's message on a syntax error."""
    try:
        program = cel.compile(source)
    except Exception as error:  # the binding raises ValueError; keep any parser failure typed
        raise ValueError(_first_line(str(error))) from error
    bound = {v for v in program.variables() if re.search(_COMPREHENSION.format(name=v), source)}
    return Compiled(source, program, frozenset(program.variables()) - bound)


def evaluate(compiled: Compiled, context: Mapping[str, Any]) -> Any:
    """Evaluate a compiled expression against ``context`` (raises on a runtime error).

    Only the variables the expression reads are converted to CEL values.
    """
    return compiled.program.execute({k: context[k] for k in compiled.variables if k in context})


def check_expression(
    source: str, samples: Sequence[Mapping[str, Any]], *, want_bool: bool = True
) -> str | None:
    """Why ``source`` is not a valid condition over ``samples``' variables, or None if it is.

    Args:
        source: the CEL text.
        samples: typed sample contexts (same keys, different values) used for the dry run.
        want_bool: require a boolean result (conditions); parameter expressions may yield any
            scalar or null.
    """
    try:
        compiled = compile_expression(source)
    except ValueError as error:
        return f"CEL syntax error in {source!r}: {error}"
    known = set(samples[0]) if samples else set()
    unknown = sorted(compiled.variables - known)
    if unknown:
        return f"unknown profile field(s) {', '.join(unknown)} in {source!r}"
    for sample in samples:
        try:
            result = evaluate(compiled, sample)
        except KeyError:
            continue
        except Exception as error:
            return f"CEL type error in {source!r}: {_first_line(str(error))}"
        if want_bool and not isinstance(result, bool):
            return f"CEL condition {source!r} must be a bool, got {type(result).__name__}"
    return None


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "invalid expression"
    return line.split(". ")[0]
