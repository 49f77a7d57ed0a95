"""Shared pieces of the request and response bodies: camelCase JSON as ChirpStack's REST
gateway speaks it, unknown fields refused, identifiers validated where they enter."""

from __future__ import annotations

import re
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

_EUI = re.compile(r"^[0-9a-fA-F]{16}$")
_KEY = re.compile(r"^[0-9a-fA-F]{32}$")
_ADDR = re.compile(r"^[0-9a-fA-F]{8}$")


class Body(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


def _eui(value: str) -> str:
    if not _EUI.match(value):
        raise ValueError("must be 16 hexadecimal digits (an EUI-64)")
    return value.lower()


def _key(value: str) -> str:
    if not _KEY.match(value):
        raise ValueError("must be 32 hexadecimal digits (an AES-128 key)")
    return value.lower()


def _addr(value: str) -> str:
    if not _ADDR.match(value):
        raise ValueError("must be 8 hexadecimal digits (a DevAddr)")
    return value.lower()


EUIText = Annotated[str, AfterValidator(_eui)]
KeyText = Annotated[str, AfterValidator(_key)]
DevAddrText = Annotated[str, AfterValidator(_addr)]
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")]
Description = Annotated[str, Field(max_length=1000)]
Tags = Annotated[dict[str, Annotated[str, Field(max_length=1000)]], Field(max_length=100)]
Limit = Annotated[int, Field(ge=1, le=1000)]
Offset = Annotated[int, Field(ge=0, le=10**9)]


T = TypeVar("T")


class Page(Body, Generic[T]):
    total_count: int
    result: list[T]
