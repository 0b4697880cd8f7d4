"""Case merges use the shared handling rule: stricter code wins, both conditions are kept."""

from app.cases import merging
from app.security.handling import combine_handling, concat_conditions, stricter_code
from tests.cases.factories import officer, seizure


def test_both_conditions_survive_a_case_merge(make, db):
    _, actor = officer(make)
    target = seizure(actor, handling_code="C", handling_conditions="Own unit only")
    dup = seizure(actor, handling_code="C", handling_conditions="Source protection")
    merging.merge_cases(target.id, dup.id, actor=actor)
    assert target.handling_code == "C"
    assert target.handling_conditions == "Own unit only\nSource protection"


def test_the_rule_itself():
    assert stricter_code("P", "C") == stricter_code("C", "P") == "C"
    assert stricter_code("P", "P") == "P"
    assert concat_conditions(None, "b") == "b"
    assert concat_conditions("a", None) == "a"
    assert concat_conditions("a", "a") == "a"
    assert concat_conditions("a", " b ") == "a\nb"
    assert concat_conditions("", "") is None

    class Rec:
        handling_code, handling_conditions = "P", None

    rec, other = Rec(), Rec()
    assert combine_handling(rec, other) is None
    other.handling_code, other.handling_conditions = "C", "x"
    assert combine_handling(rec, other) == {"code": "P", "conditions": None}
    assert (rec.handling_code, rec.handling_conditions) == ("C", "x")
