"""Java regular expressions and ``Matcher`` replacement strings, run on Python's ``re``.

Kafka Connect users write ``java.util.regex`` patterns (RegexRouter's ``regex``,
TopicNameMatches' ``pattern``) and Java replacement strings (``$1``, ``${name}``, ``\\$``), and
copy them from Kafka tutorials; Python's dialect differs in the places that matter to them:
named groups ``(?<name>..)``, ``\\Q..\\E`` quoting, ``\\z``/``\\Z``, ``\\p{Alpha}`` classes, flags in
the middle of a pattern, ASCII-only ``\\d``/``\\w``/``\\s`` and a ``{`` that is not a quantifier (an
error in Java, a literal in Python). :func:`compile_java` translates a pattern once, at
configuration time, so matching a record costs one ``re`` call.

:class:`JavaReplacement` parses a replacement the way ``Matcher.appendReplacement`` reads it and
raises Java's exceptions, with Java's messages, when a match is replaced (Kafka raises them per
record); :meth:`JavaReplacement.reference_problem` finds the bad group references up front so a
config check can refuse them with advice on how to write them.

Not supported (a ``JavaRegexError`` says so): character-class intersection and nested classes,
``\\G``, ``\\X``, and Unicode properties other than the POSIX and Java ones listed in ``_PROPERTIES``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = [
    "JavaRegexError",
    "JavaReplacement",
    "ReplacementError",
    "compile_java",
]


class JavaRegexError(ValueError):
    """A pattern Java would refuse (or this translator cannot run), with Java-style wording:
    ``<description> near index <n>`` followed by the pattern."""

    def __init__(self, description: str, pattern: str, index: int) -> None:
        self.description = description
        self.pattern = pattern
        self.index = index
        super().__init__(f"{description} near index {index}\n{pattern}")


_PROPERTIES: Final = {
    "Lower": "a-z",
    "Upper": "A-Z",
    "ASCII": "\\x00-\\x7f",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": "!-/:-@\\[-`{-~",
    "Graph": "!-~",
    "Print": " -~",
    "Blank": " \\t",
    "Cntrl": "\\x00-\\x1f\\x7f",
    "XDigit": "0-9a-fA-F",
    "Space": " \\t\\n\\x0b\\f\\r",
    "javaLowerCase": "a-z",
    "javaUpperCase": "A-Z",
    "javaWhitespace": " \\t\\n\\x0b\\f\\r\\x1c-\\x1f",
    "IsLatin": "a-zA-Z\\xaa\\xba\\xc0-\\xd6\\xd8-\\xf6\\xf8-\\u024f",
    "L": "^\\W\\d_",
    "IsAlphabetic": "^\\W\\d_",
    "IsLetter": "^\\W\\d_",
    "IsDigit": "\\d",
    "Nd": "\\d",
}
"""``\\p{..}`` names as ``re`` class contents. Entries starting with ``^`` are negated sets, usable
only as a whole class; they are evaluated in Unicode mode."""

_HORIZONTAL_SPACE: Final = " \\t\\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000"
_VERTICAL_SPACE: Final = "\\n\\x0b\\f\\r\\x85\\u2028\\u2029"
_SIMPLE_ESCAPES: Final = {
    "t": "\\t",
    "n": "\\n",
    "r": "\\r",
    "f": "\\f",
    "a": "\\a",
    "e": "\\x1b",
    "d": "\\d",
    "D": "\\D",
    "w": "\\w",
    "W": "\\W",
    "s": "\\s",
    "S": "\\S",
    "b": "\\b",
    "B": "\\B",
    "A": "\\A",
    "z": "\\Z",
}
_INLINE_FLAGS: Final = frozenset("idmsuxU")
_QUANTIFIER: Final = re.compile(r"\{(\d+)(,(\d*))?\}")
_GROUP_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9]*")


class _Translator:
    """One left-to-right pass over a Java pattern, writing the equivalent ``re`` pattern."""

    def __init__(self, pattern: str) -> None:
        self.src = pattern
        self.pos = 0
        self.out: list[str] = []
        self.origin: list[int] = []  # source index of each output chunk, to place re's errors
        self.unicode = False
        # Per open group: how many scoped-flag groups "(?i:" were opened inside it and must be
        # closed with it (Java's mid-pattern "(?i)" lasts to the end of the enclosing group).
        self.scopes: list[int] = [0]

    def fail(self, description: str, index: int | None = None) -> JavaRegexError:
        return JavaRegexError(description, self.src, self.pos if index is None else index)

    def emit(self, text: str, index: int) -> None:
        self.out.append(text)
        self.origin.append(index)

    def translate(self) -> str:
        src = self.src
        while self.pos < len(src):
            start = self.pos
            char = src[start]
            if char == "\\":
                self.emit(self.escape(in_class=False), start)
            elif char == "[":
                self.emit(self.char_class(), start)
            elif char == "(":
                self.group()
            elif char == ")":
                if len(self.scopes) == 1:
                    raise self.fail("Unmatched closing ')'", max(start - 1, 0))
                self.emit(")" * (self.scopes.pop() + 1), start)
                self.pos += 1
            elif char == "{":
                found = _QUANTIFIER.match(src, start)
                if found is None or not self.out:
                    raise self.fail("Illegal repetition", start)
                self.emit(found.group(0), start)
                self.pos = found.end()
            else:
                self.emit(char, start)
                self.pos += 1
        if len(self.scopes) > 1:
            raise self.fail("Unclosed group", len(src))
        self.emit(")" * self.scopes[0], len(src))
        return "".join(self.out)

    def group(self) -> None:
        src, start = self.src, self.pos
        if src.startswith("(?<", start) and start + 3 < len(src) and src[start + 3] not in "=!":
            end = src.find(">", start + 3)
            name = src[start + 3 : end] if end != -1 else ""
            if not name[:1].isascii() or not name[:1].isalpha():
                raise self.fail("capturing group name does not start with a Latin letter", start + 3)
            if end == -1 or not _GROUP_NAME.fullmatch(name):
                raise self.fail("named capturing group is missing trailing '>'", start + 3)
            self.emit(f"(?P<{name}>", start)
            self.pos = end + 1
            self.scopes.append(0)
            return
        if src.startswith("(?", start):
            flags = re.match(r"\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])", src[start:])
            if flags is not None:
                self.flag_group(flags.group(1), flags.group(2) or "", flags.group(3), start)
                self.pos = start + flags.end()
                return
            if src.startswith("(?#", start) or src.startswith("(?P", start):
                raise self.fail("Unknown inline modifier", start + 2)
        self.emit("(", start)
        self.pos += 1
        self.scopes.append(0)

    def flag_group(self, on: str, off: str, end: str, start: int) -> None:
        for flag in on + off:
            if flag not in _INLINE_FLAGS:
                raise self.fail("Unknown inline modifier", start + 2)
        if "U" in on:
            self.unicode = True
        # u (Unicode case), d (Unix lines) and U have no re equivalent beyond the mode chosen above
        on = "".join(f for f in on if f in "imsx")
        off = "".join(f for f in off if f in "imsx")
        spec = on + (f"-{off}" if off else "")
        if end == ":":
            self.emit(f"(?{spec}:" if spec else "(?:", start)
            self.scopes.append(0)
        elif spec:
            self.emit(f"(?{spec}:", start)
            self.scopes[-1] += 1

    def escape(self, *, in_class: bool) -> str:
        """The ``re`` text for the escape at ``pos``; advances past it."""
        src, start = self.src, self.pos
        if start + 1 >= len(src):
            raise self.fail("Unexpected internal error", start + 1)
        char = src[start + 1]
        self.pos = start + 2
        if char.isdigit():
            return self.numeric_escape(char, start, in_class=in_class)
        if char in _SIMPLE_ESCAPES and not (in_class and char in "bBAz"):
            return _SIMPLE_ESCAPES[char]
        if char == "Q":
            end = src.find("\\E", self.pos)
            literal = src[self.pos :] if end == -1 else src[self.pos : end]
            self.pos = len(src) if end == -1 else end + 2
            return re.escape(literal) if not in_class else "".join("\\" + c for c in literal)
        if char == "E":
            return ""
        if char == "Z" and not in_class:
            return "(?=\\n?\\Z)"
        if char == "R" and not in_class:
            return f"(?:\\r\\n|[{_VERTICAL_SPACE}])"
        if char in "hH":
            return f"[{'^' if char == 'H' else ''}{_HORIZONTAL_SPACE}]"
        if char in "vV":
            return f"[{'^' if char == 'V' else ''}{_VERTICAL_SPACE}]"
        if char == "c":
            if self.pos >= len(src):
                raise self.fail("Illegal control escape sequence", self.pos)
            self.pos += 1
            return f"\\x{ord(src[self.pos - 1]) ^ 64:02x}"
        if char == "x" and src.startswith("{", self.pos):
            end = src.find("}", self.pos)
            digits = src[self.pos + 1 : end] if end != -1 else ""
            if not re.fullmatch(r"[0-9a-fA-F]{1,6}", digits) or int(digits, 16) > 0x10FFFF:
                raise self.fail("Illegal hexadecimal escape sequence", self.pos)
            self.pos = end + 1
            return f"\\U{int(digits, 16):08x}"
        if char in "pP":
            return self.property(negated=char == "P", in_class=in_class)
        if char == "k" and not in_class:
            found = re.match(r"<([A-Za-z][A-Za-z0-9]*)>", src[self.pos :])
            if found is None:
                raise self.fail("\\k is not followed by '<' for named capturing group", self.pos)
            self.pos += found.end()
            return f"(?P={found.group(1)})"
        if char.isascii() and char.isalpha() and char not in "xuU":
            raise self.fail("Illegal/unsupported escape sequence", start + 1)
        if char == "U":
            raise self.fail("Illegal/unsupported escape sequence", start + 1)
        return "\\" + char

    def numeric_escape(self, char: str, start: int, *, in_class: bool) -> str:
        src = self.src
        if char == "0":
            digits = re.match(r"[0-7]{1,3}", src[self.pos :])
            if digits is None or (len(digits.group(0)) == 3 and digits.group(0)[0] > "3"):
                digits = re.match(r"[0-7]{1,2}", src[self.pos :])
            if digits is None:
                raise self.fail("Illegal octal escape sequence", self.pos)
            self.pos += digits.end()
            return f"\\x{int(digits.group(0), 8):02x}"
        if in_class:
            raise self.fail("Illegal/unsupported escape sequence", start + 1)
        return f"(?:\\{char})"

    def property(self, *, negated: bool, in_class: bool) -> str:
        src = self.src
        if src.startswith("{", self.pos):
            end = src.find("}", self.pos)
            if end == -1:
                raise self.fail("Unclosed character family", len(src))
            name = src[self.pos + 1 : end]
            self.pos = end + 1
        else:
            name = src[self.pos : self.pos + 1]
            self.pos += 1
        name = name[2:] if name.startswith(("Is", "is")) and name[2:] in _PROPERTIES else name
        contents = _PROPERTIES.get(name)
        if contents is None:
            raise self.fail(f"Unknown character property name {{{name}}}", self.pos)
        if contents.startswith("^"):
            if in_class:
                raise self.fail(f"Character property {name} is not supported inside a class", self.pos)
            self.unicode = True  # Unicode letters need re's Unicode mode
            return f"[{contents[1:]}]" if negated else f"[{contents}]"
        if negated:
            if in_class:
                raise self.fail(f"Negated property {name} is not supported inside a class", self.pos)
            return f"[^{contents}]"
        return contents if in_class else f"[{contents}]"

    def char_class(self) -> str:
        src, start = self.src, self.pos
        parts = ["["]
        self.pos += 1
        if src.startswith("^", self.pos):
            parts.append("^")
            self.pos += 1
        first = True
        while self.pos < len(src):
            char = src[self.pos]
            if char == "]" and not first:
                self.pos += 1
                parts.append("]")
                return "".join(parts)
            if char == "[":
                raise self.fail("Nested character classes are not supported", self.pos)
            if src.startswith("&&", self.pos):
                raise self.fail("Character class intersection (&&) is not supported", self.pos)
            if char == "\\":
                parts.append(self.escape(in_class=True))
            else:
                parts.append("\\]" if char == "]" else char)
                self.pos += 1
            first = False
        raise self.fail("Unclosed character class", len(src) - 1 if src else start)


def compile_java(pattern: str) -> re.Pattern[str]:
    """``pattern`` (Java syntax) compiled for ``re``; ``JavaRegexError`` if Java or ``re`` refuses it."""
    translator = _Translator(pattern)
    translated = translator.translate()
    flags = 0 if translator.unicode else re.ASCII
    try:
        return re.compile(translated, flags)
    except re.error as exc:
        index = _source_index(translator, exc.pos)
        description = exc.msg
        if description in ("nothing to repeat", "multiple repeat") and index < len(pattern):
            description = f"Dangling meta character '{pattern[index]}'"  # Java's words
        raise JavaRegexError(description, pattern, index) from None


def _source_index(translator: _Translator, position: int | None) -> int:
    if position is None:
        return 0
    written = 0
    for text, index in zip(translator.out, translator.origin, strict=True):
        written += len(text)
        if written > position:
            return index
    return len(translator.src)


class ReplacementError(ValueError):
    """What ``Matcher.appendReplacement`` throws for a bad replacement; ``java_class`` names the
    exception Kafka would report (its message is Java's, word for word)."""

    def __init__(self, java_class: str, message: str, index: int) -> None:
        super().__init__(message)
        self.java_class = java_class
        self.message = message
        self.index = index


_ILLEGAL_ARGUMENT: Final = "java.lang.IllegalArgumentException"
_OUT_OF_BOUNDS: Final = "java.lang.IndexOutOfBoundsException"


@dataclass(frozen=True, slots=True)
class JavaReplacement:
    """A Java replacement string parsed against one pattern.

    ``parts`` holds literal text (str) and group references (int or group name) up to the first
    problem; ``error`` is that problem, raised by :meth:`expand` as Java raises it on each match.
    """

    text: str
    parts: tuple[str | int, ...]
    error: ReplacementError | None
    groups: int = 0

    @classmethod
    def parse(cls, text: str, pattern: re.Pattern[str]) -> JavaReplacement:
        """Read ``text`` as ``Matcher.appendReplacement`` does, against ``pattern``'s groups."""
        parts: list[str | int] = []
        literal: list[str] = []
        groups = pattern.groups

        def flush() -> None:
            if literal:
                parts.append("".join(literal))
                literal.clear()

        def failed(message: str, index: int, java_class: str = _ILLEGAL_ARGUMENT) -> JavaReplacement:
            flush()
            return cls(text, tuple(parts), ReplacementError(java_class, message, index), groups)

        i = 0
        while i < len(text):
            char = text[i]
            if char == "\\":
                if i + 1 == len(text):
                    return failed("character to be escaped is missing", i)
                literal.append(text[i + 1])
                i += 2
                continue
            if char != "$":
                literal.append(char)
                i += 1
                continue
            flush()
            start = i
            i += 1
            if i == len(text):
                return failed("Illegal group reference: group index is missing", start)
            if text[i] == "{":
                i += 1
                name_start = i
                while i < len(text) and text[i].isascii() and text[i].isalnum():
                    i += 1
                name = text[name_start:i]
                if not name:
                    return failed("named capturing group has 0 length name", start)
                if i == len(text) or text[i] != "}":
                    return failed("named capturing group is missing trailing '}'", start)
                i += 1
                if name[0].isdigit():
                    return failed(f"capturing group name {{{name}}} starts with digit character", start)
                if name not in pattern.groupindex:
                    return failed(f"No group with name {{{name}}}", start)
                parts.append(pattern.groupindex[name])
                continue
            if not "0" <= text[i] <= "9":
                return failed("Illegal group reference", start)
            number = int(text[i])
            i += 1
            # Java keeps reading digits only while the number stays a valid group
            while i < len(text) and "0" <= text[i] <= "9" and number * 10 + int(text[i]) <= groups:
                number = number * 10 + int(text[i])
                i += 1
            if number > groups:
                return failed(f"No group {number}", start, _OUT_OF_BOUNDS)
            parts.append(number)
        flush()
        return cls(text, tuple(parts), None, groups)

    def expand(self, match: re.Match[str]) -> str:
        """The replacement for ``match`` (a group that did not take part inserts nothing)."""
        if self.error is not None:
            raise self.error
        if len(self.parts) == 1 and isinstance(self.parts[0], str):
            return self.parts[0]
        pieces = []
        for part in self.parts:
            if isinstance(part, str):
                pieces.append(part)
            else:
                pieces.append(match.group(part) or "")
        return "".join(pieces)

    def reference_problem(self) -> str | None:
        """Advice when the replacement refers to a group wrongly (which would fail every matching
        record), e.g. ``$topic``; None when its references are sound. A trailing backslash is
        left to fail at apply time, as in Kafka."""
        error = self.error
        if error is None or error.message == "character to be escaped is missing":
            return None
        at = error.index
        how = (
            "write $n for group n (e.g. $1), ${name} for a named group (?<name>...), "
            "and \\$ for a literal '$'"
        )
        word = re.match(r"\$([A-Za-z_]\w*)", self.text[at:])
        if word is not None:
            return (
                f"{error.message} at index {at}: '${word.group(1)}' is not a group reference; {how}. "
                "To reuse part of the topic, capture it in the regex, e.g. regex=(.*) with "
                f"replacement=$1-suffix, or name it: regex=(?<{word.group(1)}>.*) with "
                f"replacement=${{{word.group(1)}}}-suffix"
            )
        if error.java_class == _OUT_OF_BOUNDS:
            return f"{error.message} at index {at}: the regex has {self.groups} capturing group(s); {how}"
        return f"{error.message} at index {at}; {how}"
