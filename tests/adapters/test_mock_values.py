"""The mock model's schema values: whatever the schema, the value validates against it."""

from __future__ import annotations

import jsonschema
import pytest

from lowart.adapters._mock_values import MAX_SCHEMA_DEPTH, SchemaValues
from lowart.errors import InvalidRequest

SCHEMAS = [
    {"type": "string"},
    {"type": "string", "minLength": 300},
    {"type": "string", "maxLength": 3},
    {"type": "string", "format": "date-time"},
    {"type": "string", "format": "uuid"},
    {"type": "integer", "minimum": 10, "maximum": 20, "multipleOf": 7},
    {"type": "integer", "exclusiveMaximum": 0},
    {"type": "number", "exclusiveMinimum": 2.5},
    {"type": ["null", "boolean"]},
    {"enum": ["red", "green", "blue"]},
    {"const": {"fixed": [1, 2]}},
    {"type": "array", "items": {"type": "integer"}, "minItems": 4, "uniqueItems": True},
    {"type": "array", "items": {"type": "string"}, "minItems": 3, "uniqueItems": True},
    {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]},
    {"type": "array", "maxItems": 0},
    {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 18},
            "tags": {"type": "array", "items": {"enum": ["a", "b"]}},
            "address": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "zip": {"type": "string"}},
                "required": ["city"],
                "additionalProperties": False,
            },
            "level": {"type": "string", "default": "info"},
        },
        "required": ["name", "age", "tags", "address", "level"],
        "additionalProperties": False,
    },
    {  # what pydantic generates: $defs, $ref, anyOf with null
        "$defs": {
            "Step": {
                "properties": {"explanation": {"type": "string"}, "output": {"type": "string"}},
                "required": ["explanation", "output"],
                "type": "object",
            }
        },
        "properties": {
            "steps": {"items": {"$ref": "#/$defs/Step"}, "type": "array"},
            "final_answer": {"anyOf": [{"type": "null"}, {"type": "string"}]},
        },
        "required": ["steps", "final_answer"],
        "type": "object",
    },
    {  # a recursive tree: arrays stop growing deep down
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
                "required": ["children"],
            }
        },
        "$ref": "#/$defs/Node",
    },
    {"allOf": [{"properties": {"a": {"type": "integer"}}, "required": ["a"]}, {"type": "object"}]},
    {"oneOf": [{"type": "integer"}, {"type": "string"}]},
    {},
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
def test_value_satisfies_schema(schema):
    value = SchemaValues("What is the weather in Paris?").value(schema)
    jsonschema.validate(value, schema)


def test_strings_come_from_the_callers_text_and_enums_it_names():
    schema = {
        "type": "object",
        "properties": {"query": {"type": "string"}, "color": {"enum": ["red", "green"]}},
        "required": ["query", "color"],
    }
    assert SchemaValues("  find   GREEN things ").value(schema) == {
        "query": "find GREEN things",
        "color": "green",
    }


def test_spelled_out_values_win_and_add_optional_properties():
    schema = {
        "type": "object",
        "properties": {"path": {"type": "string"}, "limit": {"type": "integer"}},
        "required": ["path"],
    }
    values = SchemaValues("read it", {"path": "/tmp/a.txt", "limit": 5})
    assert values.value(schema) == {"path": "/tmp/a.txt", "limit": 5}
    assert SchemaValues("read it").value(schema) == {"path": "read it"}


def test_deterministic():
    schema = SCHEMAS[16]
    assert SchemaValues("x").value(schema) == SchemaValues("x").value(schema)


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#"},  # refers to itself forever
        {"type": "array", "items": {"type": "string"}, "minItems": 100_000},
        {"type": "string", "minLength": 10**9},
        {"$ref": "#/$defs/missing"},
        {"$ref": "https://example.com/schema.json"},
        {  # every level asks for 200 more items
            "type": "array",
            "minItems": 200,
            "items": {"type": "array", "minItems": 200, "items": {"type": "integer"}},
        },
    ],
)
def test_unanswerable_schemas_are_a_clear_400(schema):
    with pytest.raises(InvalidRequest) as raised:
        SchemaValues("x").value(schema)
    assert raised.value.status == 400
    assert "schema" in raised.value.message or "mock" in raised.value.message


def test_depth_bound():
    schema: dict = {"type": "string"}
    for _ in range(MAX_SCHEMA_DEPTH + 2):
        schema = {"type": "object", "properties": {"a": schema}, "required": ["a"]}
    with pytest.raises(InvalidRequest, match="nests deeper"):
        SchemaValues("x").value(schema)
