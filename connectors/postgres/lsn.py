"""PostgreSQL log sequence numbers (LSN): 64-bit WAL positions written ``X/Y`` in hex.

Everything in ``connectors.postgres`` keeps LSNs as plain ``int`` (cheap to compare, to store in
offsets and to put on the wire); these helpers convert at the edges, where a server result or a
user-facing message uses the text form.
"""

from __future__ import annotations

MAX_LSN = 0xFFFF_FFFF_FFFF_FFFF
INVALID_LSN = 0
"""``0/0``: PostgreSQL's InvalidXLogRecPtr; as a flush position in a status update it means "none"."""


def parse_lsn(text: str) -> int:
    """``'16/B374D848'`` → ``0x16B374D848``. Raises ``ValueError`` saying what a valid LSN looks like."""
    high, sep, low = text.strip().partition("/")
    try:
        if not sep or not high or not low or len(high) > 8 or len(low) > 8:
            raise ValueError
        return (int(high, 16) << 32) | int(low, 16)
    except ValueError:
        raise ValueError(
            f"invalid LSN {text!r}: expected two hexadecimal numbers such as '16/B374D848'"
        ) from None


def format_lsn(lsn: int) -> str:
    """``0x16B374D848`` → ``'16/B374D848'`` (upper-case hex, as PostgreSQL prints it)."""
    if not 0 <= lsn <= MAX_LSN:
        raise ValueError(f"LSN {lsn} is outside 0..2**64-1")
    return f"{lsn >> 32:X}/{lsn & 0xFFFF_FFFF:X}"


def parse_optional_lsn(text: str | None) -> int | None:
    """A nullable LSN column (``restart_lsn``, ``confirmed_flush_lsn``) → ``int`` or ``None``."""
    return None if text is None else parse_lsn(text)
