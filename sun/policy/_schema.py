"""The published JSON Schema of policy files (for editor completion)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sun.policy._model import PolicyDoc

SCHEMA_PATH = Path(__file__).with_name("policy.schema.json")


def policy_json_schema() -> dict[str, Any]:
    """JSON Schema of a policy file, generated from the pydantic models."""
    schema = PolicyDoc.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://heliarch.dev/schemas/policy.schema.json"
    schema["title"] = "heliarch policy"
    return schema


def write_json_schema(path: Path = SCHEMA_PATH) -> Path:
    """Write the schema to ``path`` (the shipped copy is checked against this in the tests)."""
    path.write_text(
        json.dumps(policy_json_schema(), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return path
