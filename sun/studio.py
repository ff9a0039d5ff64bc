"""The sun graph for LangGraph Studio / ``langgraph dev`` (see ``langgraph.json``).

Compiled without a checkpointer: the LangGraph server brings its own. Configure with the usual
environment variables (``HELIARCH_SUN_MODEL``, ...). Input example::

    {"request": {"csv": "examples/data/GOOG.csv", "symbol": "GOOG", "as_of": "2010-06-01"}}
"""

from __future__ import annotations

from sun._graph import build_sun_graph
from sun._sun import Sun

_SUN = Sun(checkpoint="none")
graph = build_sun_graph(bound_context=_SUN.context)

__all__ = ["graph"]
