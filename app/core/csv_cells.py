"""What makes a CSV cell unreadable whatever its column, for every CSV import (cases, the
registry, declaration history): undecodable bytes (decoded with ``surrogateescape`` they are
lone surrogates, so the cell holding them can be named), NUL and other control characters,
an over-long cell."""

import re

#: a byte that was not UTF-8, as ``bytes.decode("utf-8", errors="surrogateescape")`` keeps it
NOT_UTF8 = re.compile(r"[\udc80-\udcff]")
#: control characters other than tab, line feed and carriage return
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def cell_problem(raw: str, *, controls: bool = True, max_len: int | None = None) -> str | None:
    """Why the cell cannot be imported, or None. ``controls``: refuse control characters
    (an import that checks them per column passes False); ``max_len``: refuse longer cells."""
    if found := NOT_UTF8.search(raw):
        byte = ord(found.group()) - 0xDC00
        return f"is not UTF-8 text (byte 0x{byte:02x}); save the file as CSV UTF-8"
    if "\x00" in raw:
        return "must not contain NUL characters"
    if controls and CONTROL.search(raw):
        return "must not contain control characters"
    if max_len is not None and len(raw) > max_len:
        return f"is longer than {max_len} characters"
    return None


def header_not_utf8(name: str) -> bool:
    """A header cell that cannot name a column (undecodable bytes or a NUL)."""
    return bool(NOT_UTF8.search(name)) or "\x00" in name
