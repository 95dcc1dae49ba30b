"""Java ``.properties`` text, read the way ``java.util.Properties.load`` reads it.

Worker settings files, connector ``.properties`` files and the ``file`` config provider all use
this one reader, so a file means the same wherever it is given.
"""

from __future__ import annotations


def parse_properties(text: str) -> dict[str, str]:
    """Java ``.properties``: ``=``, ``:`` or whitespace separators, ``#``/``!`` comments, ``\\``
    continuations and escapes (``\\:``, ``\\=``, ``\\uXXXX``, ...), as ``Properties.load`` reads them."""
    result: dict[str, str] = {}
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.lstrip()
        pending = ""
        if not line or (line[0] in "#!" and not pending):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:  # an odd number of backslashes continues the line
            pending = line[:-1]
            continue
        key, value = _split_property(line)
        result[_unescape(key)] = _unescape(value)
    return result


def _split_property(line: str) -> tuple[str, str]:
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "=: \t\f":
            break
        i += 1
    key = line[:i]
    rest = line[i:].lstrip(" \t\f")
    if rest[:1] in ("=", ":") and (i >= len(line) or line[i] in " \t\f"):
        rest = rest[1:]
    elif i < len(line) and line[i] in "=:":
        rest = line[i + 1 :]
    return key, rest.lstrip(" \t\f")


_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _unescape(text: str) -> str:
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "u" and i + 6 <= len(text):
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out).rstrip() if not text.endswith("\\ ") else "".join(out)
