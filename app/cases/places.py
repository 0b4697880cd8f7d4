"""Places of seizures from the reference lists (``app.reference``): customs offices and
border crossing points with their coordinates, kept by the administrator.

A case names its place as ``"office:<code>"`` or ``"crossing:<code>"`` (``Case.place_ref``);
its ``place`` and ``place_type`` are then the list's label and kind, so "Merdare" and
"BCP Merdare" are one place in lists, statistics and on the map."""

from app.core.errors import ValidationError

#: reference list -> the case's place type
PLACE_LISTS = {"crossing": "bcp", "office": "office"}


def _reference():
    from app.reference import service

    return service


def choices() -> list[tuple[str, str]]:
    """Active offices and crossing points for a select, crossing points first."""
    rows = []
    for list_name, group in (("crossing", "Border crossing point"), ("office", "Customs office")):
        for e in _reference().entries(list_name):
            country = f", {e.country}" if e.country else ""
            rows.append((f"{list_name}:{e.code}", f"{e.label} ({group.lower()}{country})"))
    return rows


def resolve(value, name="place_ref"):
    """The reference entry a ``place_ref`` names (active), or a ValidationError on ``name``."""
    raw = str(value or "").strip()
    list_name, sep, code = raw.partition(":")
    entry = None
    if sep and list_name in PLACE_LISTS and code:
        entry = _reference().lookup(list_name, code)
    if entry is None or not entry.is_active:
        raise ValidationError(
            {name: f"{raw[:60]!r} is not an office or crossing point of the reference list"}
        )
    return entry


def by_name() -> dict[str, str]:
    """Code or label (case-folded) -> ``place_ref`` of every active office and crossing
    point: how a register's place column (``BCP Merdare``, ``BCP-MER``) finds its entry."""
    found = {}
    for list_name in ("office", "crossing"):  # a crossing point's name wins over an office's
        for e in _reference().entries(list_name):
            ref = f"{list_name}:{e.code}"
            found[e.code.casefold()] = ref
            found[" ".join(e.label.split()).casefold()] = ref
    return found


def parse(value, name):
    """Parser of the ``place_ref`` field: the checked reference, or None when blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    entry = resolve(value, name)
    return f"{entry.list_name}:{entry.code}"


def apply(parsed: dict) -> None:
    """A chosen place sets the case's place and place type from the list."""
    if parsed.get("place_ref"):
        entry = resolve(parsed["place_ref"])
        parsed["place"] = entry.label
        parsed["place_type"] = PLACE_LISTS[entry.list_name]


def coordinates(refs) -> dict:
    """place_ref -> (label, latitude, longitude) for the refs that have coordinates."""
    out = {}
    for ref in refs:
        try:
            entry = resolve(ref)
        except ValidationError:
            list_name, _, code = str(ref).partition(":")
            entry = _reference().lookup(list_name, code) if list_name in PLACE_LISTS else None
        if entry is not None and entry.latitude is not None and entry.longitude is not None:
            out[ref] = (entry.label, entry.latitude, entry.longitude)
    return out
