"""Java regex patterns and replacement strings on Python's re: the translation, and Java's
``Matcher.replaceFirst`` results and exceptions (java.util.regex documentation; reference §7.11)."""

from __future__ import annotations

import pytest

from connectors.transforms.java_regex import JavaRegexError, JavaReplacement, ReplacementError, compile_java


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("(?<env>[a-z]+)-(.*)", "prod-orders", True),  # Java named group syntax
        ("\\Qa.b\\E", "a.b", True),  # \Q..\E quotes
        ("\\Qa.b\\E", "axb", False),
        ("(?i)orders", "ORDERS", True),  # leading flags
        ("x(?i)b", "xB", True),  # flags mid-pattern last to the end of the group
        ("x(?i)b", "XB", False),
        ("(a(?i)b)c", "aBc", True),
        ("(a(?i)b)c", "aBC", False),  # ... and no further
        ("\\p{Alpha}+\\p{Digit}", "abc1", True),
        ("\\p{Lower}+", "abC", False),
        ("\\d+", "١٢", False),  # \d is ASCII-only in Java
        ("\\w+", "é", False),
        ("a\\z", "a", True),
        ("(?<d>\\d)\\k<d>", "11", True),
        ("(?<d>\\d)\\k<d>", "12", False),
        ("\\x{41}\\0101\\cA", "AA\x01", True),
        ("a\\hb", "a\tb", True),
        ("[\\p{Upper}_]+", "AB_C", True),
        ("a{2}+b", "aab", True),  # possessive quantifier
        ("logs-\\d{4}\\.\\d{2}", "logs-2024.01", True),
    ],
)
def test_patterns_translate_to_java_meaning(pattern: str, text: str, matches: bool) -> None:
    assert (compile_java(pattern).fullmatch(text) is not None) is matches


def test_upper_z_allows_a_final_line_terminator_and_lower_z_does_not() -> None:
    assert compile_java("a\\Z").search("a\n") is not None
    assert compile_java("a\\z").search("a\n") is None


@pytest.mark.parametrize(
    ("pattern", "description", "index"),
    [
        ("${topic}", "Illegal repetition", 1),  # a '{' that is not a quantifier is an error in Java
        ("(ab", "Unclosed group", 3),
        ("ab)", "Unmatched closing ')'", 1),
        ("[a-z", "Unclosed character class", 3),
        ("[a-z&&[^b]]", "Character class intersection (&&) is not supported", 4),
        ("\\p{Nope}", "Unknown character property name {Nope}", 8),
        ("\\y", "Illegal/unsupported escape sequence", 1),
        ("(?<1a>x)", "capturing group name does not start with a Latin letter", 3),
        ("(?<a-b>x)", "named capturing group is missing trailing '>'", 3),
        ("*a", "Dangling meta character '*'", 0),
        ("a{,3}", "Illegal repetition", 1),
    ],
)
def test_invalid_patterns_are_refused_with_java_wording(pattern: str, description: str, index: int) -> None:
    with pytest.raises(JavaRegexError) as caught:
        compile_java(pattern)
    assert caught.value.description == description
    assert caught.value.index == index
    assert str(caught.value) == f"{description} near index {index}\n{pattern}"


def test_errors_reported_by_re_point_into_the_java_pattern() -> None:
    with pytest.raises(JavaRegexError) as caught:
        compile_java("(?<n>a)(?<n>b)")
    assert "redefinition" in caught.value.description
    assert caught.value.index >= 7


def replace_first(pattern: str, replacement: str, text: str) -> str:
    regex = compile_java(pattern)
    parsed = JavaReplacement.parse(replacement, regex)
    return regex.sub(parsed.expand, text, count=1)


@pytest.mark.parametrize(
    ("pattern", "replacement", "text", "expected"),
    [
        ("(.*)-(.*)", "$2_$1", "prod-orders", "orders_prod"),
        ("(?<env>[a-z]+)-(?<name>.*)", "${name}.${env}", "prod-orders", "orders.prod"),
        ("(.*)", "\\$$1", "orders", "$orders"),  # \$ is a literal dollar
        ("(.*)", "a\\\\b", "x", "a\\b"),  # \\ is a backslash
        ("(.*)", "$12", "x", "x2"),  # $12 with one group: group 1 then "2"
        ("(a)(b)?", "[$2]", "a", "[]"),  # a group that did not take part inserts nothing
        ("(.*)", "$0!", "x", "x!"),
        ("(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)", "$11$10", "abcdefghijk", "kj"),
        ("topic", "renamed", "topic", "renamed"),
    ],
)
def test_replacement_follows_java_syntax(pattern: str, replacement: str, text: str, expected: str) -> None:
    assert replace_first(pattern, replacement, text) == expected


@pytest.mark.parametrize(
    ("replacement", "java_class", "message"),
    [
        ("$2", "java.lang.IndexOutOfBoundsException", "No group 2"),
        ("$topic", "java.lang.IllegalArgumentException", "Illegal group reference"),
        ("x$", "java.lang.IllegalArgumentException", "Illegal group reference: group index is missing"),
        ("${nope}", "java.lang.IllegalArgumentException", "No group with name {nope}"),
        ("${}", "java.lang.IllegalArgumentException", "named capturing group has 0 length name"),
        ("${ab", "java.lang.IllegalArgumentException", "named capturing group is missing trailing '}'"),
        ("x\\", "java.lang.IllegalArgumentException", "character to be escaped is missing"),
    ],
)
def test_bad_replacements_raise_javas_exception_when_applied(
    replacement: str, java_class: str, message: str
) -> None:
    regex = compile_java("(.*)")
    parsed = JavaReplacement.parse(replacement, regex)  # parsing alone does not fail, as in Kafka
    match = regex.fullmatch("orders")
    assert match is not None
    with pytest.raises(ReplacementError) as caught:
        parsed.expand(match)
    assert (caught.value.java_class, caught.value.message) == (java_class, message)


def test_reference_problem_says_how_to_write_a_group_reference() -> None:
    problem = JavaReplacement.parse("$topic-new", compile_java("(.*)")).reference_problem()
    assert problem is not None
    assert problem.startswith("Illegal group reference at index 0: '$topic' is not a group reference")
    assert "$1" in problem and "${name}" in problem and "\\$" in problem
    assert "regex=(?<topic>.*) with replacement=${topic}-suffix" in problem


def test_reference_problem_counts_the_groups() -> None:
    problem = JavaReplacement.parse("$3", compile_java("(a)(b)")).reference_problem()
    assert problem is not None
    assert problem.startswith("No group 3 at index 0: the regex has 2 capturing group(s)")


def test_sound_replacements_and_a_trailing_backslash_have_no_reference_problem() -> None:
    regex = compile_java("(.*)")
    assert JavaReplacement.parse("$1-x", regex).reference_problem() is None
    assert JavaReplacement.parse("x\\", regex).reference_problem() is None  # fails per record, as in Kafka
