"""POST /v1/embeddings through the official openai SDK: the mock's vectors, an OpenAI
upstream passed through, route kinds, bounds, usage and per-key limits."""

from __future__ import annotations

import base64
import math
import struct

import anthropic
import openai
import pytest


@pytest.fixture
def embed(gateway):
    gateway.add_model("embed", "mock", kind="embedding")
    gateway.add_model("embed-small", "mock", kind="embedding", options={"dimensions": 64})
    gateway.add_model(
        "oa-embed",
        "openai",
        kind="embedding",
        base_url=gateway.extra["fake"].base_url,
        upstream_model="text-embedding-3-small",
        api_key="sk-upstream-secret",
    )
    return gateway


def client(gateway, key=None) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=gateway.openai_base_url, api_key=key or gateway.admin_key, max_retries=0
    )


def _norm(vector) -> float:
    return math.sqrt(sum(v * v for v in vector))


def test_mock_vectors_float_and_base64(embed):
    api = client(embed)
    one = api.embeddings.create(model="embed", input="hello world", encoding_format="float")
    assert one.object == "list" and one.model == "embed"
    (item,) = one.data
    assert item.index == 0 and len(item.embedding) == 1536
    assert abs(_norm(item.embedding) - 1) < 1e-5
    assert one.usage.prompt_tokens == 2 and one.usage.total_tokens == 2
    again = api.embeddings.create(model="embed", input="hello world", encoding_format="float")
    assert again.data[0].embedding == item.embedding  # deterministic
    # the SDK's default asks for base64 and decodes it: the very same numbers
    decoded = api.embeddings.create(model="embed", input="hello world")
    assert list(decoded.data[0].embedding) == item.embedding
    raw = api.embeddings.create(model="embed", input="hello world", encoding_format="base64")
    packed = base64.b64decode(raw.data[0].embedding)
    assert list(struct.unpack("<1536f", packed)) == item.embedding


def test_list_token_inputs_and_dimensions(embed):
    api = client(embed)
    many = api.embeddings.create(
        model="embed", input=["a cat", "a dog", "a cat"], encoding_format="float"
    )
    vectors = [d.embedding for d in many.data]
    assert [d.index for d in many.data] == [0, 1, 2]
    assert vectors[0] == vectors[2] and vectors[0] != vectors[1]
    tokens = api.embeddings.create(model="embed", input=[15339, 1917], encoding_format="float")
    assert tokens.usage.prompt_tokens == 2 and len(tokens.data) == 1
    arrays = api.embeddings.create(model="embed", input=[[1, 2, 3], [4]], encoding_format="float")
    assert arrays.usage.prompt_tokens == 4 and len(arrays.data) == 2
    short = api.embeddings.create(
        model="embed", input="a cat", dimensions=256, encoding_format="float"
    )
    vector = short.data[0].embedding
    assert len(vector) == 256 and abs(_norm(vector) - 1) < 1e-5
    # shortened like text-embedding-3: the first values of the full vector, renormalised
    prefix = vectors[0][:256]
    assert all(abs(a - b / _norm(prefix)) < 1e-5 for a, b in zip(vector, prefix, strict=True))
    small = api.embeddings.create(model="embed-small", input="x", encoding_format="float")
    assert len(small.data[0].embedding) == 64
    with pytest.raises(openai.BadRequestError, match="from 1 to 64"):
        api.embeddings.create(model="embed-small", input="x", dimensions=65)


def test_openai_upstream_pass_through(embed):
    fake = embed.extra["fake"]
    api = client(embed)
    reply = api.embeddings.create(
        model="oa-embed", input=["one two", "three"], dimensions=4, user="u1"
    )
    sent = fake.requests[-1]
    assert sent == {
        "model": "text-embedding-3-small",
        "input": ["one two", "three"],
        "user": "u1",
        "dimensions": 4,
        "encoding_format": "base64",
    }
    assert fake.headers[-1]["Authorization"] == "Bearer sk-upstream-secret"
    assert [list(d.embedding) for d in reply.data] == [[0, 2, 0.5, 0.5], [1, 1, 0.5, 0.5]]
    assert reply.model == "oa-embed" and reply.usage.prompt_tokens == 3
    record = embed.wait_for_records(1)[-1]
    assert record["interface"] == "embeddings" and record["route"] == "oa-embed"
    assert (record["prompt_tokens"], record["completion_tokens"]) == (3, 0)
    assert record["usage_source"] == "upstream" and record["status"] == "ok"


def test_wrong_kind_is_a_clear_400_in_each_protocol(embed):
    api = client(embed)
    with pytest.raises(openai.BadRequestError) as raised:
        api.embeddings.create(model="mock", input="x")
    assert raised.value.body["code"] == "wrong_model_kind"
    assert "use it with /v1/chat/completions" in raised.value.body["message"]
    with pytest.raises(openai.BadRequestError, match="use it with /v1/embeddings"):
        api.chat.completions.create(model="embed", messages=[{"role": "user", "content": "x"}])
    claude = anthropic.Anthropic(base_url=embed.base_url, api_key=embed.admin_key, max_retries=0)
    with pytest.raises(anthropic.BadRequestError) as refused:
        claude.messages.create(
            model="embed", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    assert refused.value.body["error"]["type"] == "invalid_request_error"
    with pytest.raises(openai.NotFoundError):
        api.embeddings.create(model="nope", input="x")
    kinds = {m.id: m.model_dump()["kind"] for m in api.models.list().data}
    assert kinds["embed"] == "embedding" and kinds["mock"] == "chat"
    _, rows = embed.admin_call("GET", "/admin/models")
    assert {r["name"]: r["kind"] for r in rows["data"]}["oa-embed"] == "embedding"


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ({"input": ""}, "empty string"),
        ({"input": []}, "non-empty"),
        ({"input": ["a"] * 2049}, "at most 2048"),
        ({"input": [["x"]]}, "all strings or all token arrays"),
        ({"input": [[1], "a"]}, "all strings or all token arrays"),
        ({"input": [[-1]]}, "all strings or all token arrays"),
        ({"input": "x", "dimensions": 0}, "'dimensions'"),
        ({"input": "x", "dimensions": 100_000}, "'dimensions'"),
        ({"input": "x", "encoding_format": "int8"}, "encoding_format"),
        ({"input": [[7] * 150_001, [7] * 150_000]}, "more than 300000 tokens"),
        ({"input": ["word " * 60_000] * 6}, "at most 300000"),
    ],
)
def test_bounds(embed, body, match):
    with pytest.raises(openai.BadRequestError, match=match):
        client(embed).post("/embeddings", body={"model": "embed", **body}, cast_to=object)
    assert not embed.usage_records()  # refused before routing: no record, no tokens


def test_key_limits_apply(embed):
    key = embed.create_key("small", tpm=10, models=["embed"])
    api = client(embed, key)
    api.embeddings.create(model="embed", input="one two three four five six")
    with pytest.raises(openai.RateLimitError):
        api.embeddings.create(model="embed", input="one two three four five six")
    with pytest.raises(openai.PermissionDeniedError):
        api.embeddings.create(model="oa-embed", input="x")
    records = embed.wait_for_records(1)
    assert [(r["key_name"], r["prompt_tokens"]) for r in records] == [("small", 6)]
