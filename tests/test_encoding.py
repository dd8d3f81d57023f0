"""Server frames encoded with orjson (``protocol.encode``, ``encode_frame``) are the same text
pydantic writes, for every server frame type, with every field set and with only the required."""

from __future__ import annotations

import dataclasses
import re
import types
from typing import Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from chatserver.domain import protocol as p

SERVER_FRAMES: list[type[p.Frame]] = list(get_args(get_args(p.ServerFrame)[0]))
TEXT = 'Grüße, "quoted" \\ \u2028 </script> 😀'


def limits(metadata: list[Any]) -> dict[str, Any]:
    """A field's bounds (``max_length``, ``pattern``, ``le``...) from its metadata."""
    found: dict[str, Any] = {}
    for item in metadata:
        names = [f.name for f in dataclasses.fields(item)] if dataclasses.is_dataclass(item) else []
        values = {n: getattr(item, n) for n in names} if names else dict(vars(item))
        found |= {k: v for k, v in values.items() if v is not None}
    return found


def sample(annotation: Any, name: str, metadata: list[Any] | None = None) -> Any:
    """A valid value for a field, unlike its default."""
    bounds = limits(metadata or [])
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return args[-1]
    if origin in (Union, types.UnionType):
        return sample(next(a for a in args if a is not type(None)), name)
    if origin is list:
        return [sample(args[0], name), sample(args[0], name)]
    if origin is dict:
        return {"key": sample(args[1], name)}
    if hasattr(annotation, "__metadata__"):  # Annotated: an id, a bounded text or number
        return sample(args[0], name, list(annotation.__metadata__))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation(**full(annotation))
    if annotation is bool:
        return True
    if annotation is int:
        return min(7, bounds.get("le", 7))
    if annotation is float:
        return 12.375 if "le" in bounds or "lt" in bounds else 1_800_000_123.456
    if annotation is str:
        if "pattern" in bounds:
            return next(v for v in ("c-1.x_y@z", "c-1_x") if re.match(bounds["pattern"], v))
        return TEXT[: bounds.get("max_length", len(TEXT))]
    if annotation is Any:
        return {"a": [1, 2.5, None, "b"], "c": {"d": True}}
    raise AssertionError(f"no sample for {annotation!r} ({name})")


def full(kind: type[BaseModel]) -> dict[str, Any]:
    return {
        name: sample(info.annotation, name, info.metadata)
        for name, info in kind.model_fields.items()
        if name != "type"
    }


def required(kind: type[BaseModel]) -> dict[str, Any]:
    return {
        name: sample(info.annotation, name, info.metadata)
        for name, info in kind.model_fields.items()
        if info.is_required()
    }


@pytest.mark.parametrize("kind", SERVER_FRAMES, ids=lambda kind: kind.__name__)
@pytest.mark.parametrize("values", [full, required], ids=["every field", "required only"])
def test_encoding_is_the_text_pydantic_writes(kind: type[p.Frame], values: Any) -> None:
    frame = kind(**values(kind))
    assert p.encode(frame) == frame.model_dump_json()
    given = {name: getattr(frame, name) for name in values(kind)}
    assert p.encode_frame(kind, **given) == frame.model_dump_json()


def test_plain_values_skip_the_model_and_still_match() -> None:
    values = {
        "conversation_id": "c-1",
        "seq": 3,
        "ts": 1_800_000_000,  # an int for a float field: pydantic writes 1800000000.0
        "author": "shopper",
        "author_id": "s-1",
        "text": TEXT,
        "client_id": "m1",
        "deadline": None,
    }
    assert p.encode_frame(p.MessagePosted, **values) == p.MessagePosted(**values).model_dump_json()
    ack = {"conversation_id": "c-1", "client_id": "m1", "seq": 2**62, "duplicate": True}
    assert p.encode_frame(p.Ack, **ack) == p.Ack(**ack).model_dump_json()


def test_an_unknown_or_missing_field_is_an_error() -> None:
    with pytest.raises(TypeError, match="no fields"):
        p.encode_frame(p.Ack, conversation_id="c-1", client_id="m1", seq=1, colour="red")
    with pytest.raises(TypeError, match="needs"):
        p.encode_frame(p.Ack, conversation_id="c-1", client_id="m1")
