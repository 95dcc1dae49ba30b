"""Config validators shared by the built-in transforms, with the wording of Kafka's ConfigDef
validators (``NonEmptyString``, ``NonEmptyListValidator``, ``ValidString``, ``RegexValidator``),
so ``/config/validate`` shows what a Kafka Connect user expects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator

from connectors.sdk.config import CommaList
from connectors.transforms.java_regex import JavaRegexError, compile_java


def _non_empty_string(value: str) -> str:
    if value == "":
        raise ValueError("String must be non-empty")
    return value


def _non_empty_list(value: list[str]) -> list[str]:
    if not value:
        raise ValueError("Empty list")
    return value


def _java_regex(value: str) -> str:
    try:
        compile_java(value)
    except JavaRegexError as exc:
        raise ValueError(f"Invalid regex: {exc}") from None
    return value


def one_of(*allowed: str) -> Callable[[str], str]:
    """Kafka's ``ValidString.in``: exact (case-sensitive) match against ``allowed``."""

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"String must be one of: {', '.join(allowed)}")
        return value

    return check


NonEmptyString = Annotated[str, AfterValidator(_non_empty_string)]
NonEmptyList = Annotated[CommaList, AfterValidator(_non_empty_list)]
JavaRegex = Annotated[str, AfterValidator(_java_regex)]
"""A valid ``java.util.regex`` pattern (checked by translating it, see :mod:`java_regex`)."""
NonEmptyJavaRegex = Annotated[str, AfterValidator(_non_empty_string), AfterValidator(_java_regex)]
