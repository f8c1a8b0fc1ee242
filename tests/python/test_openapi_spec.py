"""Validates the OpenAPI document against the OpenAPI 3.1 schema.

Starts nothing: it reads target/openapi.json, which the Rust test `tests/openapi.rs` writes
from the running app's /openapi.json (scripts/test runs the Rust tests first).
"""

import json
import pathlib

from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

SPEC = pathlib.Path(__file__).resolve().parents[2] / "target" / "openapi.json"


def test_the_openapi_document_is_valid_openapi_3_1():
    assert SPEC.exists(), (
        f"{SPEC} is missing: run `cargo nextest run --test openapi` first, which writes it"
    )
    spec = json.loads(SPEC.read_text())
    assert spec["openapi"].startswith("3.1.")
    validate(spec, cls=OpenAPIV31SpecValidator)
    assert "/api/v1/orders" in spec["paths"]
