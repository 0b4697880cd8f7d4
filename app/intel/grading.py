"""The UK 3x5x2 grading scale and its mappings to the legacy 5x5x5 and NATO Admiralty scales.

Mappings between scales are many-to-one approximations (the scales do not measure exactly
the same thing); they follow the College of Policing transition guidance: a legacy grade is
shown next to the 3x5x2 one, never instead of it.
"""

from app.core.errors import ValidationError

SOURCE_GRADES = {
    "1": "1 — reliable",
    "2": "2 — untested",
    "3": "3 — not reliable",
}
INTEL_GRADES = {
    "A": "A — known directly to the source",
    "B": "B — known indirectly to the source but corroborated",
    "C": "C — known indirectly to the source",
    "D": "D — not known",
    "E": "E — suspected to be false",
}

# 3x5x2 -> 5x5x5 (source A-E, intelligence 1-5)
_TO_5X5X5_SOURCE = {"1": "B", "2": "E", "3": "D"}
_TO_5X5X5_INTEL = {"A": "2", "B": "3", "C": "4", "D": "4", "E": "5"}
# 5x5x5 -> 3x5x2
_FROM_5X5X5_SOURCE = {"A": "1", "B": "1", "C": "3", "D": "3", "E": "2"}
_FROM_5X5X5_INTEL = {"1": "A", "2": "A", "3": "B", "4": "D", "5": "E"}
# 3x5x2 -> NATO Admiralty (source A-F, information 1-6)
_TO_ADMIRALTY_SOURCE = {"1": "B", "2": "F", "3": "E"}
_TO_ADMIRALTY_INTEL = {"A": "2", "B": "1", "C": "3", "D": "6", "E": "5"}
# Admiralty -> 3x5x2
_FROM_ADMIRALTY_SOURCE = {"A": "1", "B": "1", "C": "2", "D": "3", "E": "3", "F": "2"}
_FROM_ADMIRALTY_INTEL = {"1": "B", "2": "A", "3": "C", "4": "D", "5": "E", "6": "D"}


def check_grade(source: str, intel: str, *, prefix: str = "") -> tuple[str, str]:
    """Validate a 3x5x2 source and intelligence grade; returns them normalised."""
    source, intel = str(source or "").strip(), str(intel or "").strip().upper()
    errors = {}
    if source not in SOURCE_GRADES:
        errors[f"{prefix}source_grade"] = "must be 1 (reliable), 2 (untested) or 3 (not reliable)"
    if intel not in INTEL_GRADES:
        errors[f"{prefix}intel_grade"] = "must be one of A, B, C, D, E"
    if errors:
        raise ValidationError(errors)
    return source, intel


def parse_link_grade(value, *, field: str = "grade") -> str | None:
    """A link grade is a 3x5x2 pair such as "1A"; empty means ungraded."""
    value = str(value or "").strip().upper()
    if not value:
        return None
    if len(value) != 2:
        raise ValidationError(
            {field: "a grade is a source grade and an intelligence grade, e.g. 1A"}
        )
    source, intel = check_grade(value[0], value[1], prefix=f"{field}.")
    return source + intel


def to_5x5x5(source: str, intel: str) -> str:
    return _TO_5X5X5_SOURCE[source] + _TO_5X5X5_INTEL[intel]


def to_admiralty(source: str, intel: str) -> str:
    return _TO_ADMIRALTY_SOURCE[source] + _TO_ADMIRALTY_INTEL[intel]


def from_legacy(scale: str, grade: str) -> tuple[str, str]:
    """Map a legacy grade ("5x5x5": e.g. "B2"; "admiralty": e.g. "C3") to 3x5x2."""
    grade = str(grade or "").strip().upper()
    tables = {
        "5x5x5": (_FROM_5X5X5_SOURCE, _FROM_5X5X5_INTEL),
        "admiralty": (_FROM_ADMIRALTY_SOURCE, _FROM_ADMIRALTY_INTEL),
    }
    if scale not in tables:
        raise ValidationError({"scale": "must be 5x5x5 or admiralty"})
    sources, intels = tables[scale]
    if len(grade) != 2 or grade[0] not in sources or grade[1] not in intels:
        raise ValidationError({"grade": f"{grade!r} is not a {scale} grade"})
    return sources[grade[0]], intels[grade[1]]
