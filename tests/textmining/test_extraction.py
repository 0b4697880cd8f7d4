"""Extraction quality on hand-annotated seizure articles, and the extraction contract."""

import json
from collections import defaultdict
from pathlib import Path

import pytest

from app.textmining.nlp import Extractor, TermSpec, builtin_term_specs, expand_synonyms
from app.textmining.terms_builtin import BUILTIN_TERMS, TERM_CATEGORIES

GOLD = json.loads((Path(__file__).parent / "data" / "seizure_articles.json").read_text())
MODEL_CATEGORIES = {"person", "organisation", "place"}


def _scores(extractor, categories):
    tp, fp, fn = defaultdict(int), defaultdict(int), defaultdict(int)
    for item in GOLD:
        found = defaultdict(set)
        for m in extractor.extract(item["text"]):
            found[m.category].add(m.canonical)
        for cat in categories:
            gold, got = set(item["gold"].get(cat, [])), found.get(cat, set())
            tp[cat] += len(gold & got)
            fp[cat] += len(got - gold)
            fn[cat] += len(gold - got)
    report = {}
    for cat in categories:
        p = tp[cat] / (tp[cat] + fp[cat]) if tp[cat] + fp[cat] else 1.0
        r = tp[cat] / (tp[cat] + fn[cat]) if tp[cat] + fn[cat] else 1.0
        report[cat] = (p, r, tp[cat] + fn[cat])
    return report


def _print(report, title):
    print(f"\n{title}: category precision recall gold-mentions")
    for cat, (p, r, n) in sorted(report.items()):
        print(f"  {cat:14} {p:6.3f} {r:6.3f} {n:5}")


def test_gold_set_is_large_and_covers_every_category():
    assert len(GOLD) >= 30
    covered = {cat for item in GOLD for cat in item["gold"]}
    assert (
        set(TERM_CATEGORIES) | {"quantity", "person", "organisation", "place", "vehicle", "vessel"}
        <= covered
    )


RULE_CATEGORIES = [*TERM_CATEGORIES, "quantity", "vehicle", "vessel"]


def test_rule_pipeline_precision_recall(rules_extractor):
    report = _scores(rules_extractor, RULE_CATEGORIES)
    _print(report, "rules only")
    for cat in ("commodity", "transport"):
        p, r, _ = report[cat]
        assert p > 0.9 and r > 0.9, f"{cat}: precision {p:.3f}, recall {r:.3f}"
    for cat, (p, r, _) in report.items():
        assert p > 0.8 and r > 0.8, f"{cat}: precision {p:.3f}, recall {r:.3f}"


def test_model_pipeline_precision_recall(model_extractor):
    report = _scores(model_extractor, [*RULE_CATEGORIES, *MODEL_CATEGORIES])
    _print(report, f"rules + {model_extractor.name}")
    for cat in ("commodity", "transport"):
        p, r, _ = report[cat]
        assert p > 0.9 and r > 0.9, f"{cat}: precision {p:.3f}, recall {r:.3f}"
    # the statistical NER adds persons, organisations and places the rules cannot know
    for cat in MODEL_CATEGORIES:
        p, r, _ = report[cat]
        assert p >= 0.5 and r >= 0.5, f"{cat}: precision {p:.3f}, recall {r:.3f}"


def test_rules_alone_find_only_cued_persons(rules_extractor):
    found = rules_extractor.extract(
        "The driver, Goran Petrovski, was arrested by Europol. Ivan Horvat fled."
    )
    names = [(m.category, m.canonical) for m in found if m.category in MODEL_CATEGORIES]
    assert names == [("person", "Goran Petrovski")]  # a role word names him; Europol needs NER
    assert rules_extractor.name == "rules"


def test_role_cue_beats_a_wrong_model_label(model_extractor):
    found = model_extractor.extract("The driver, Murat Demir, was detained at Kapikule.")
    people = {(m.category, m.canonical) for m in found if m.category in MODEL_CATEGORIES}
    assert people == {("person", "Murat Demir")}


def test_model_finds_persons_and_term_lists_win(model_extractor):
    text = "Ivan Horvat was stopped at Tabanovce with cocaine from Colombia."
    found = {(m.category, m.canonical): m for m in model_extractor.extract(text)}
    assert ("person", "Ivan Horvat") in found
    # the model would call Colombia a GPE and Tabanovce an ORG/GPE: the term lists win
    assert ("route", "Colombia") in found and ("crossing", "Tabanovce") in found
    assert not any(c == "place" and n in ("Colombia", "Tabanovce") for c, n in found)
    assert found[("person", "Ivan Horvat")].source == "model"


def test_mentions_are_normalised_to_canonical_terms(rules_extractor):
    text = "Officers found crystal meth, a lorry full of marihuana and 2.5 tonnes of hashish."
    got = {(m.category, m.canonical, m.text) for m in rules_extractor.extract(text)}
    assert ("commodity", "methamphetamine", "crystal meth") in got
    assert ("transport", "truck", "lorry") in got
    assert ("commodity", "cannabis", "marihuana") in got
    assert ("commodity", "cannabis resin", "hashish") in got
    assert ("quantity", "2.5 t", "2.5 tonnes") in got


def test_offsets_point_at_the_text(rules_extractor):
    text = "On Friday night 40 kg of heroin were found in a truck at Kapikule."
    for m in rules_extractor.extract(text):
        assert text[m.start : m.end] == m.text


def test_exact_spelling_terms_do_not_match_verbs(rules_extractor):
    found = rules_extractor.extract("Traffickers may march the goods across in May.")
    months = [m for m in found if m.category == "timeframe"]
    assert [(m.text, m.canonical) for m in months] == [("May", "May")]


def test_plurals_of_conveyances_match(rules_extractor):
    got = {m.canonical for m in rules_extractor.extract("Two lorries and three vessels.")}
    assert {"truck", "vessel"} <= got


def test_sentence_index(rules_extractor):
    found = rules_extractor.extract("Cocaine was found. A truck was stopped.")
    by = {m.canonical: m.sentence for m in found}
    assert by["cocaine"] == 0 and by["truck"] == 1


def test_builtin_lists_cover_the_issue_categories():
    commodities = set(BUILTIN_TERMS["commodity"])
    for needed in (
        "cocaine",
        "heroin",
        "methamphetamine",
        "fentanyl",
        "cannabis",
        "captagon",
        "cigarettes",
        "tobacco",
        "alcohol",
        "firearms",
        "ammunition",
        "explosives",
        "wildlife",
        "ivory",
        "counterfeit goods",
        "currency",
        "precursors",
    ):
        assert needed in commodities
    transport = set(BUILTIN_TERMS["transport"])
    for needed in (
        "truck",
        "container",
        "vessel",
        "yacht",
        "air cargo",
        "passenger",
        "courier",
        "postal parcel",
        "rail",
        "car",
        "bus",
    ):
        assert needed in transport
    concealment = set(BUILTIN_TERMS["concealment"])
    for needed in (
        "false bottom",
        "hidden compartment",
        "body packing",
        "misdeclaration",
        "undervaluation",
        "rip-on/rip-off",
        "trans-shipment",
    ):
        assert needed in concealment
    assert {"night", "Christmas", "summer", "Monday", "December"} <= set(BUILTIN_TERMS["timeframe"])


def test_custom_terms_build_a_new_pipeline():
    extractor = Extractor([TermSpec("commodity", "khat", ("qat", "miraa"))], model="none")
    found = extractor.extract("Bundles of Miraa and qat were seized.")
    assert [(m.canonical, m.text) for m in found] == [("khat", "Miraa"), ("khat", "qat")]


def test_expand_synonyms_marks_exact_forms():
    forms = expand_synonyms(TermSpec("timeframe", "May", ("=May",)))
    assert forms == ["=May"]
    forms = expand_synonyms(TermSpec("transport", "truck", ("lorry",)))
    assert {"truck", "trucks", "lorry", "lorries"} <= set(forms)


@pytest.mark.parametrize("model", ["none", "auto"])
def test_extract_cli_json_shape(runner, tmp_path, model, app):
    from app.textmining.nlp import find_model

    if model == "auto" and find_model() is None:
        pytest.skip("no English model installed")
    path = tmp_path / "article.txt"
    path.write_text("Customs seized 12 kg of cocaine in a container at the Port of Bar.")
    result = runner.invoke(args=["textmining", "extract", str(path), "--json", "--model", model])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert set(body) == {"mentions"}
    assert all(set(m) == {"text", "label", "canonical", "start", "end"} for m in body["mentions"])
    got = {(m["label"], m["canonical"]) for m in body["mentions"]}
    assert {
        ("commodity", "cocaine"),
        ("transport", "container"),
        ("crossing", "Port of Bar"),
        ("quantity", "12 kg"),
    } <= got


def test_builtin_specs_are_unique():
    keys = [(s.category, s.canonical) for s in builtin_term_specs()]
    assert len(keys) == len(set(keys))


def test_a_headline_is_its_own_sentence(rules_extractor):
    found = rules_extractor.extract("Heroin at Horgos\n\nA truck was stopped on Monday.")
    by = {m.canonical: m.sentence for m in found}
    assert by["heroin"] == 0 and by["truck"] == 1 and by["Monday"] == 1


@pytest.mark.parametrize(
    "text",
    [
        "It arrived on the vessel MV Adriatic Trader from Ecuador.",
        "It arrived on MV Adriatic Trader.",
        "It arrived on the ship Adriatic Trader.",
    ],
)
def test_vessel_names(rules_extractor, text):
    vessels = [m.canonical for m in rules_extractor.extract(text) if m.category == "vessel"]
    assert vessels == ["Adriatic Trader"]
