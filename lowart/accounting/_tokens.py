"""Offline token counting for OpenAI-style requests and responses.

The gateway needs token counts when an upstream does not report ``usage`` (or to
pre-check budgets before forwarding), and it has to get them without any network
access. ``tiktoken.get_encoding`` downloads rank files on first use and caches
them in a temp directory, so it is never called here. Instead the BPE rank files
ship inside the package (``lowart/accounting/data/*.tiktoken``); they are read,
checked against the same sha256 digests tiktoken pins, and turned into
``tiktoken.Encoding`` objects with tiktoken's own regex and special tokens.

Building an encoding takes about a second, so each one is built lazily, at most
once per process, behind a lock (``warm_up`` lets the server pay that cost at
start-up instead of on the first request).

Chat framing follows OpenAI's documented recipe (the cookbook's
``num_tokens_from_messages``): 3 tokens per message, +1 when the message has a
``name``, +3 to prime the assistant reply. Images, tool definitions and
non-text parts are estimates; prompt counts are accurate for plain text chat and
approximate otherwise. None of the counting functions raise on odd input shapes:
anything unrecognised is counted as its text form.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tiktoken

__all__ = [
    "EncodingIntegrityError",
    "count_completion_tokens",
    "count_prompt_tokens",
    "count_text",
    "encoding_for_model",
    "ensure_loaded",
    "warm_up",
]

# --------------------------------------------------------------------------- #
# Encoding specs (copied verbatim from tiktoken_ext/openai_public.py, 0.14.0)  #
# --------------------------------------------------------------------------- #

ENDOFTEXT = "<|endoftext|>"
FIM_PREFIX = "<|fim_prefix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_SUFFIX = "<|fim_suffix|>"
ENDOFPROMPT = "<|endofprompt|>"

_CL100K_PAT_STR = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""  # noqa: E501

_O200K_PAT_STR = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)


@dataclass(frozen=True, slots=True)
class _EncodingSpec:
    name: str
    filename: str
    sha256: str
    pat_str: str
    special_tokens: Mapping[str, int]


_SPECS: dict[str, _EncodingSpec] = {
    "cl100k_base": _EncodingSpec(
        name="cl100k_base",
        filename="cl100k_base.tiktoken",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pat_str=_CL100K_PAT_STR,
        special_tokens={
            ENDOFTEXT: 100257,
            FIM_PREFIX: 100258,
            FIM_MIDDLE: 100259,
            FIM_SUFFIX: 100260,
            ENDOFPROMPT: 100276,
        },
    ),
    "o200k_base": _EncodingSpec(
        name="o200k_base",
        filename="o200k_base.tiktoken",
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pat_str=_O200K_PAT_STR,
        special_tokens={ENDOFTEXT: 199999, ENDOFPROMPT: 200018},
    ),
}

_DATA_DIR = Path(__file__).resolve().parent / "data"


class EncodingIntegrityError(RuntimeError):
    """A shipped BPE rank file is missing, corrupt or does not match its pinned sha256."""


# --------------------------------------------------------------------------- #
# Loading                                                                      #
# --------------------------------------------------------------------------- #


def _parse_ranks(data: bytes, source: str) -> dict[bytes, int]:
    """Parse ``<base64 token> <rank>`` lines, exactly like ``tiktoken.load.load_tiktoken_bpe``.

    Reimplemented because ``load_tiktoken_bpe`` insists on writing a cache copy to
    the temp directory, which the gateway must not do.
    """
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if not line:
            continue
        try:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
        except Exception as exc:
            raise EncodingIntegrityError(f"error parsing line {line!r} in {source}") from exc
    return ranks


def _load_encoding(name: str, path: Path | str | None = None) -> tiktoken.Encoding:
    """Build encoding ``name`` from its rank file, verifying the pinned sha256 first.

    Uncached on purpose: callers go through ``_get_encoding``. ``path`` overrides
    the packaged file location (tests use it to feed a tampered copy); the hash
    that must match is always the one pinned for ``name``, so an override can never
    smuggle in different ranks.
    """
    spec = _SPECS.get(name)
    if spec is None:
        raise ValueError(f"unknown encoding {name!r}; known: {sorted(_SPECS)}")
    file = Path(path) if path is not None else _DATA_DIR / spec.filename
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise EncodingIntegrityError(
            f"cannot read BPE rank file for {name} at {file}: {exc}"
        ) from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise EncodingIntegrityError(
            f"sha256 mismatch for {name} rank file {file}: expected {spec.sha256}, got {digest}; "
            "the packaged tokenizer data is corrupt or was replaced"
        )
    encoding = tiktoken.Encoding(
        name=spec.name,
        pat_str=spec.pat_str,
        mergeable_ranks=_parse_ranks(data, str(file)),
        special_tokens=dict(spec.special_tokens),
    )
    _drop_python_ranks(encoding)
    return encoding


def _drop_python_ranks(encoding: tiktoken.Encoding) -> None:
    """Free the Python copy of the ranks (~25 MB for o200k) once the Rust core has its own.

    Encoding and decoding run entirely in the Rust core; the Python dict is only
    kept by tiktoken for pickling, which the gateway never does.
    """
    if isinstance(getattr(encoding, "_mergeable_ranks", None), dict):
        encoding._mergeable_ranks = {}


_encodings: dict[str, tiktoken.Encoding] = {}
_locks: dict[str, threading.Lock] = {name: threading.Lock() for name in _SPECS}


def _get_encoding(name: str) -> tiktoken.Encoding:
    """Return the process-wide encoding ``name``, building it at most once.

    Per-encoding locks with a lock-free fast path: concurrent first callers wait
    for a single build (~1s) instead of each building their own, and loading one
    encoding never blocks users of the other.
    """
    enc = _encodings.get(name)
    if enc is not None:
        return enc
    lock = _locks.get(name)
    if lock is None:
        raise ValueError(f"unknown encoding {name!r}; known: {sorted(_SPECS)}")
    with lock:
        enc = _encodings.get(name)
        if enc is None:
            enc = _load_encoding(name)
            _encodings[name] = enc
    return enc


# --------------------------------------------------------------------------- #
# Model -> encoding                                                            #
# --------------------------------------------------------------------------- #

_O200K_PREFIXES = (
    "gpt-4o",
    "chatgpt-4o",
    "gpt-4.1",
    "gpt-4.5",
    "gpt-5",
    "o1",
    "o3",
    "o4",
)


@functools.lru_cache(maxsize=4096)
def _encoding_name_for_model(model: str) -> str:
    """Map a model id to an encoding name; cached because it runs on every request."""
    base = model.strip().lower().rsplit("/", 1)[-1]  # "openai/gpt-4o" -> "gpt-4o"
    if base.startswith("ft:"):  # fine-tunes: "ft:gpt-4o-mini:org::id"
        base = base[3:]
    if base.startswith(_O200K_PREFIXES):
        return "o200k_base"
    return "cl100k_base"


def encoding_for_model(model: str) -> tiktoken.Encoding:
    """Return the tiktoken encoding to use for ``model``, loading it on first use.

    o200k_base for the gpt-4o / gpt-4.1 / gpt-4.5 / gpt-5 / o1 / o3 / o4 families
    (optionally ``provider/``-prefixed); cl100k_base for everything else,
    including unknown and non-OpenAI models, because an approximate count is more
    useful to accounting than an error.
    """
    if not isinstance(model, str):
        model = str(model)
    return _get_encoding(_encoding_name_for_model(model))


async def ensure_loaded(model: str) -> None:
    """Load `model`'s encoding in a worker thread if it is not loaded yet.

    The engine awaits this before a call may count tokens, so a cold encoding
    (tens of MB, about half a second to build) never stalls the event loop and
    is only ever loaded by a process that needs it.
    """
    if _encoding_name_for_model(model) not in _encodings:
        await asyncio.to_thread(encoding_for_model, model)


def warm_up(models: Iterable[str] = ("gpt-4o", "gpt-4")) -> None:
    """Preload the encodings ``models`` need, so the first request doesn't pay ~1s per encoding."""
    for model in models:
        encoding_for_model(model)


# --------------------------------------------------------------------------- #
# Counting                                                                     #
# --------------------------------------------------------------------------- #

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING_TOKENS = 3
IMAGE_LOW_DETAIL_TOKENS = 85
IMAGE_TILE_TOKENS = 170
IMAGE_DEFAULT_TILES = 4  # size unknown without fetching the image: assume a 512x512-tile 2x2 grid


_CHUNK_CHARS = 64 * 1024  # a long text is encoded in pieces about this long
INLINE_COUNT_CHARS = 256 * 1024  # more text than this is counted off the event loop


def _encode_len(enc: tiktoken.Encoding, text: str) -> int:
    # disallowed_special=() : user text that spells "<|endoftext|>" is counted as
    # plain text instead of raising ValueError.
    if len(text) <= _CHUNK_CHARS:
        return len(enc.encode(text, disallowed_special=())) if text else 0
    return sum(len(enc.encode(piece, disallowed_special=())) for piece in _pieces(text))


def _pieces(text: str) -> Iterator[str]:
    """A long text in pieces of about `_CHUNK_CHARS`, cut only before a single space
    between two non-space characters: the tokenizers' pre-split always starts a new
    word there, so the pieces encode to exactly the whole text's tokens. Pieces keep
    each encode call (and the GIL it holds to build its token list) short, which is
    what lets a counting thread leave the event loop alone."""
    start = 0
    size = len(text)
    while size - start > _CHUNK_CHARS:
        cut = text.find(" ", start + _CHUNK_CHARS)
        while cut != -1 and not _word_boundary(text, cut):
            cut = text.find(" ", cut + 1)
        if cut == -1:
            break
        yield text[start:cut]
        start = cut
    yield text[start:]


def _word_boundary(text: str, index: int) -> bool:
    """A single space with a non-space character on each side."""
    return index + 1 < len(text) and not text[index - 1].isspace() and not text[index + 1].isspace()


def prompt_chars(request: Mapping[str, Any]) -> int:
    """How much text a request carries, roughly and cheaply (no tokenizing): what
    decides whether counting it may run on the event loop."""
    total = 0
    messages = request.get("messages")
    if isinstance(messages, list | tuple):
        for message in messages:
            if not isinstance(message, Mapping):
                continue
            content = message.get("content")
            if isinstance(content, str):
                total += len(content)
            elif isinstance(content, list | tuple):
                for part in content:
                    if isinstance(part, str):
                        total += len(part)
                    elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
                        total += len(part["text"])
                    else:
                        total += 64
    tools = request.get("tools")
    if isinstance(tools, list | tuple):
        total += 256 * len(tools)
    return total


async def count_prompt_tokens_off_loop(request: Mapping[str, Any], model: str) -> int:
    """`count_prompt_tokens`, in a worker thread when the request carries a lot of text
    (tokenizing runs at roughly 1 MiB per second, which would stall every caller)."""
    if prompt_chars(request) <= INLINE_COUNT_CHARS:
        return count_prompt_tokens(request, model)
    return await asyncio.to_thread(count_prompt_tokens, request, model)


def count_embedding_input(inputs: Sequence[Any], model: str) -> int:
    """Tokens of an embeddings input: strings tokenized, token arrays as given."""
    enc = encoding_for_model(model)
    return sum(
        len(item) if isinstance(item, list) else _encode_len(enc, str(item)) for item in inputs
    )


async def count_embedding_input_off_loop(inputs: Sequence[Any], model: str) -> int:
    """`count_embedding_input`, in a worker thread when the input carries a lot of text."""
    chars = sum(len(item) for item in inputs if isinstance(item, str))
    if chars <= INLINE_COUNT_CHARS:
        return count_embedding_input(inputs, model)
    return await asyncio.to_thread(count_embedding_input, inputs, model)


def _json_text(value: Any) -> str:
    """Compact JSON of ``value``, or ``str(value)`` if it isn't JSON-serialisable."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return str(value)


def _count_value(enc: tiktoken.Encoding, value: Any) -> int:
    """Count a scalar-ish value: strings as-is, None as nothing, anything else as its text."""
    if value is None:
        return 0
    if isinstance(value, str):
        return _encode_len(enc, value)
    if isinstance(value, Mapping | list | tuple):
        return _encode_len(enc, _json_text(value))
    return _encode_len(enc, str(value))


def _count_image_part(part: Mapping[str, Any]) -> int:
    """Estimate an image part: 85 for detail "low", else 85 + 170 * 4 tiles = 765.

    The real cost depends on the image size, which is unknown without fetching
    it, so high/auto detail is an estimate for a typical image.
    """
    image = part.get("image_url")
    detail = image.get("detail") if isinstance(image, Mapping) else None
    if detail == "low":
        return IMAGE_LOW_DETAIL_TOKENS
    return IMAGE_LOW_DETAIL_TOKENS + IMAGE_TILE_TOKENS * IMAGE_DEFAULT_TILES


def _count_content(enc: tiktoken.Encoding, content: Any) -> int:
    """Count message content: a string, None, or a list of typed parts."""
    if content is None:
        return 0
    if isinstance(content, str):
        return _encode_len(enc, content)
    if not isinstance(content, list | tuple):
        return _count_value(enc, content)
    total = 0
    for part in content:
        if isinstance(part, str):
            total += _encode_len(enc, part)
            continue
        if not isinstance(part, Mapping):
            total += _count_value(enc, part)
            continue
        kind = part.get("type")
        if kind == "text" and "text" in part:
            total += _count_value(enc, part.get("text"))
        elif kind == "refusal" and "refusal" in part:
            total += _count_value(enc, part.get("refusal"))
        elif kind == "image_url":
            total += _count_image_part(part)
        else:  # input_audio, file, unknown: count what is sent, as JSON text
            total += _encode_len(enc, _json_text(part))
    return total


def _count_tool_calls(enc: tiktoken.Encoding, tool_calls: Any) -> int:
    """Count function names and argument strings of ``tool_calls``."""
    if tool_calls is None:
        return 0
    if not isinstance(tool_calls, list | tuple):
        return _count_value(enc, tool_calls)
    total = 0
    for call in tool_calls:
        if not isinstance(call, Mapping):
            total += _count_value(enc, call)
            continue
        fn = call.get("function")
        if isinstance(fn, Mapping):
            total += _count_value(enc, fn.get("name")) + _count_value(enc, fn.get("arguments"))
            continue
        custom = call.get("custom")
        if isinstance(custom, Mapping):
            total += _count_value(enc, custom.get("name")) + _count_value(enc, custom.get("input"))
            continue
        total += _encode_len(enc, _json_text(call))
    return total


def _count_function_call(enc: tiktoken.Encoding, function_call: Any) -> int:
    """Count the legacy single ``function_call`` field (name + arguments)."""
    if isinstance(function_call, Mapping):
        return _count_value(enc, function_call.get("name")) + _count_value(
            enc, function_call.get("arguments")
        )
    return _count_value(enc, function_call)


def _count_message(enc: tiktoken.Encoding, message: Any) -> int:
    if not isinstance(message, Mapping):
        return TOKENS_PER_MESSAGE + _count_value(enc, message)
    total = TOKENS_PER_MESSAGE
    total += _count_value(enc, message.get("role"))
    total += _count_content(enc, message.get("content"))
    name = message.get("name")
    if name is not None:
        total += TOKENS_PER_NAME + _count_value(enc, name)
    if "tool_calls" in message:
        total += _count_tool_calls(enc, message.get("tool_calls"))
    if "function_call" in message:
        total += _count_function_call(enc, message.get("function_call"))
    if "refusal" in message:
        total += _count_value(enc, message.get("refusal"))
    return total


def count_text(text: str, model: str) -> int:
    """Number of tokens in ``text`` under ``model``'s encoding.

    Special-token spellings such as ``"<|endoftext|>"`` are counted as ordinary
    text, never rejected: the input is user data, not a control sequence.
    """
    enc = encoding_for_model(model)
    return _count_value(enc, text)


def count_prompt_tokens(request: Mapping[str, Any], model: str) -> int:
    """Estimate prompt tokens for an OpenAI Chat Completions ``request`` dict.

    Uses OpenAI's documented chat framing: each message costs 3 tokens plus its
    role and content (+1 and the name's tokens when it has a ``name``), and 3 more
    prime the reply. Exact for plain text chat; the rest is an estimate:

    * ``image_url`` parts: 85 tokens for detail "low", otherwise 85 + 170 * 4
      tiles = 765 since the image size is unknown;
    * ``input_audio`` / unknown parts: the tokens of their compact JSON;
    * assistant ``tool_calls``: function names + argument strings;
    * ``tools`` / ``functions``: the tokens of their compact JSON. OpenAI renders
      tool definitions into a hidden prompt format of its own, so this is only an
      approximation of what the API will report.

    Never raises on odd shapes; unrecognised values are counted as their text.
    """
    enc = encoding_for_model(model)
    if not isinstance(request, Mapping):
        return _count_value(enc, request)
    total = 0
    messages = request.get("messages")
    if isinstance(messages, list | tuple):
        for message in messages:
            total += _count_message(enc, message)
        total += REPLY_PRIMING_TOKENS
    elif messages is not None:
        total += _count_value(enc, messages) + REPLY_PRIMING_TOKENS
    for key in ("tools", "functions"):
        defs = request.get(key)
        if defs:
            total += _encode_len(enc, _json_text(defs))
    return total


def count_completion_tokens(message: Mapping[str, Any], model: str) -> int:
    """Count tokens the model generated in assistant ``message``.

    Used when an upstream omits ``usage`` (common for streams): pass the final
    message, or the stream deltas accumulated into one. Counts ``content`` (string
    or parts), ``tool_calls`` function names + arguments, legacy
    ``function_call`` and ``refusal``. No framing tokens are added.
    """
    enc = encoding_for_model(model)
    if not isinstance(message, Mapping):
        return _count_value(enc, message)
    total = _count_content(enc, message.get("content"))
    if "tool_calls" in message:
        total += _count_tool_calls(enc, message.get("tool_calls"))
    if "function_call" in message:
        total += _count_function_call(enc, message.get("function_call"))
    if "refusal" in message:
        total += _count_value(enc, message.get("refusal"))
    return total
