"""Handling codes of records that are combined (case merges, entity merges).

One rule for every domain: facts keep their sharing conditions wherever they move. When
the facts of ``source`` move into ``target``, the stricter handling code wins and the
conditions of both are kept, one after the other. Undoing the move puts back the previous
code and conditions exactly (``restore_handling``).
"""

STRICTNESS = {"P": 0, "C": 1}


def stricter_code(a: str, b: str) -> str:
    """The stricter of two handling codes ("C" over "P")."""
    return a if STRICTNESS.get(a, 1) >= STRICTNESS.get(b, 1) else b


def concat_conditions(first: str | None, second: str | None) -> str | None:
    """Both texts, the second appended on its own line unless already there."""
    first, second = (first or "").strip(), (second or "").strip()
    if not second or second in first:
        return first or None
    if not first:
        return second
    return f"{first}\n{second}"


def combine_handling(target, source) -> dict | None:
    """Raise ``target``'s handling to cover ``source``'s facts.

    Returns the previous ``{"code", "conditions"}`` of ``target`` when something changed
    (store it to undo the combination), else None.
    """
    code = stricter_code(target.handling_code, source.handling_code)
    conditions = concat_conditions(target.handling_conditions, source.handling_conditions)
    if code == target.handling_code and conditions == target.handling_conditions:
        return None
    before = {"code": target.handling_code, "conditions": target.handling_conditions}
    target.handling_code = code
    target.handling_conditions = conditions
    return before


def restore_handling(target, before: dict | None) -> None:
    """Put back what ``combine_handling`` returned (no-op for None)."""
    if before:
        target.handling_code = before["code"]
        target.handling_conditions = before["conditions"]
