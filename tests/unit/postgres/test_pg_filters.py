"""Debezium's table/column filter rules (reference §2.3)."""

from __future__ import annotations

import time

import pytest

from connectors.postgres.filters import (
    ColumnFilter,
    TableFilter,
    is_system_table,
    regex_problem,
    split_patterns,
)


def test_patterns_split_on_unescaped_commas_and_trim() -> None:
    assert split_patterns(" public.a , public.b,,") == ["public.a", "public.b"]
    assert split_patterns(r"public.t\,x,inv.*") == ["public.t,x", "inv.*"]
    assert split_patterns(None) == []
    assert split_patterns(["a", " b "]) == ["a", "b"]


def test_bad_regex_is_reported() -> None:
    assert regex_problem(["public.a", "public.(b"]) is not None
    assert "public.(b" in (regex_problem(["public.(b"]) or "")
    assert regex_problem(["public\\..*"]) is None


def test_include_is_anchored_and_case_insensitive() -> None:
    f = TableFilter(table_include=["public.customers"])
    assert f.is_included("public", "customers")
    assert f.is_included("PUBLIC", "Customers")
    assert not f.is_included("public", "customers2")  # anchored at the end
    assert not f.is_included("xpublic", "customers")  # and at the start
    assert not f.is_included("public", "orders")


def test_regex_dot_matches_any_character_as_in_debezium() -> None:
    f = TableFilter(table_include=["public.cust.*"])
    assert f.is_included("public", "customers")
    # an unescaped "." is any character, in Debezium too: "publicXcust.x" matches "public.cust.*"
    assert f.is_included("publicXcust", "x")
    assert not TableFilter(table_include=["public\\.cust.*"]).is_included("publicXcust", "x")
    assert TableFilter(table_include=["inventory\\..*"]).is_included("inventory", "orders")


def test_exclude_drops_matches_only() -> None:
    f = TableFilter(table_exclude=["public\\.audit_.*"])
    assert f.is_included("public", "customers")
    assert not f.is_included("public", "audit_log")
    assert not f.is_included("Public", "AUDIT_2024")


def test_schema_and_table_filters_must_both_pass() -> None:
    f = TableFilter(schema_include=["inventory"], table_include=["inventory.customers", "public.orders"])
    assert f.is_included("inventory", "customers")
    assert not f.is_included("public", "orders")  # schema filter fails
    assert not f.is_included("inventory", "orders")  # table filter fails
    g = TableFilter(schema_exclude=["staging"])
    assert g.is_included("public", "x") and not g.is_included("STAGING", "x")


def test_include_wins_over_exclude_like_debezium() -> None:
    f = TableFilter(table_include=["public.a"], table_exclude=["public.a"])
    assert f.is_included("public", "a")


@pytest.mark.parametrize(
    ("schema", "table"),
    [
        ("pg_catalog", "pg_class"),
        ("information_schema", "tables"),
        ("pg_toast", "pg_toast_1234"),
        ("pg_temp_3", "scratch"),
        ("pg_toast_temp_3", "x"),
        ("public", "spatial_ref_sys"),
    ],
)
def test_system_tables_are_excluded_by_default_even_when_included(schema: str, table: str) -> None:
    assert is_system_table(schema, table)
    assert not TableFilter().is_included(schema, table)
    assert not TableFilter(table_include=[".*"]).is_included(schema, table)
    assert TableFilter(ignore_builtin=False).is_included(schema, table)


def test_no_lists_capture_every_user_table() -> None:
    f = TableFilter()
    assert f.is_included("public", "anything") and f.is_included("Sales", "Orders")


def test_select_and_unmatched_includes() -> None:
    f = TableFilter(table_include=["public.a", "public.missing", "inv.*\\.b"])
    tables = [("public", "a"), ("public", "z"), ("inventory", "b")]
    assert f.select(tables) == [("public", "a"), ("inventory", "b")]
    assert f.unmatched_includes(tables) == ["public.missing"]
    assert TableFilter(table_exclude=["x"]).unmatched_includes(tables) == []
    s = TableFilter(schema_include=["inventory", "nope"])
    assert s.unmatched_schema_includes(["public", "inventory"]) == ["nope"]


def test_column_filter_matches_schema_table_column() -> None:
    inc = ColumnFilter(include=["public.customers.(id|name)"])
    assert inc.columns("public", "customers", ["id", "name", "email"]) == ["id", "name"]
    assert not inc.is_included("public", "orders", "id")
    exc = ColumnFilter(exclude=["public.customers.email", ".*\\.secret"])
    assert exc.columns("public", "customers", ["id", "EMAIL", "secret"]) == ["id"]
    assert ColumnFilter().keeps_everything and ColumnFilter().is_included("a", "b", "c")


def test_lookups_are_cached_and_fast() -> None:
    f = TableFilter(table_include=[f"public.t{i}" for i in range(50)] + ["sales\\..*"])
    assert f.is_included("sales", "orders")
    start = time.perf_counter()
    for _ in range(200_000):
        f.is_included("sales", "orders")
    per_lookup_us = (time.perf_counter() - start) / 200_000 * 1e6
    assert per_lookup_us < 5, per_lookup_us
