"""Issue 19 item 10: term lists keep the distinctions analysts track, and the statistical
model only reads articles in its own language (the rules still apply)."""

import json

import pytest
from sqlalchemy import select

from app.security.access import Actor
from app.textmining import service
from app.textmining.extraction import extract_articles
from app.textmining.models import Mention, Term
from app.textmining.network import NetworkFilter, build_network
from app.textmining.nlp import Extractor, TermSpec, builtin_term_specs, find_model
from app.textmining.splits import apply_term_splits
from tests.textmining import factories


def _found(extractor, text):
    return {(m.category, m.canonical) for m in extractor.extract(text)}


@pytest.mark.parametrize(
    ("text", "expected", "not_expected"),
    [
        (
            "A drone dropped cigarettes over the fence.",
            ("transport", "drone"),
            ("transport", "private aircraft"),
        ),
        (
            "Two UAVs and an unmanned aerial vehicle were seized.",
            ("transport", "drone"),
            ("transport", "private aircraft"),
        ),
        (
            "A go-fast boat was intercepted off the coast.",
            ("transport", "speedboat"),
            ("transport", "yacht"),
        ),
        (
            "Police found crack cocaine in the flat.",
            ("commodity", "crack"),
            ("commodity", "cocaine"),
        ),
        (
            "Officers seized 40 kg of hashish.",
            ("commodity", "cannabis resin"),
            ("commodity", "cannabis"),
        ),
        (
            "She carried heated tobacco sticks in her bag.",
            ("commodity", "heated tobacco"),
            ("commodity", "tobacco"),
        ),
        (
            "He was arrested with e-cigarettes.",
            ("commodity", "e-cigarettes"),
            ("commodity", "cigarettes"),
        ),
        (
            "Three gold bars were hidden in the car.",
            ("commodity", "gold"),
            ("commodity", "currency"),
        ),
        (
            "The drugs were taped to her body.",
            ("concealment", "on the body"),
            ("concealment", "body packing"),
        ),
    ],
)
def test_folded_distinctions_are_their_own_terms(rules_extractor, text, expected, not_expected):
    found = _found(rules_extractor, text)
    assert expected in found
    assert not_expected not in found


def test_kept_distinctions_stay_apart(rules_extractor):
    found = _found(rules_extractor, "A swallower and a courier parcel; cocaine in his luggage.")
    assert {
        ("concealment", "body packing"),
        ("transport", "courier"),
        ("commodity", "cocaine"),
        ("concealment", "in luggage"),
    } <= found
    assert ("transport", "postal parcel") not in found


def test_stored_terms_and_mentions_are_split(db, rules_extractor):
    """A database seeded before the split: drone rows of "private aircraft" move to "drone",
    in the term rows and in the stored mentions the network is computed from."""
    # the old list: drone was a synonym of private aircraft
    old = Extractor(
        [
            TermSpec("transport", "private aircraft", ("private jet", "drone", "drones")),
            TermSpec("commodity", "cigarettes", ("cigarettes",)),
        ],
        model="none",
    )
    db.session.add(
        Term(
            category="transport",
            canonical="private aircraft",
            synonyms=["private jet", "private aircraft", "drone", "drones"],
            is_builtin=True,
        )
    )
    db.session.flush()
    for text in (
        "Drones carried cigarettes over the river at night.",
        "Border guards shot down two drones loaded with cigarettes near Grodno.",
        "A farmer found a crashed drone; it held 300 packs of cigarettes.",
    ):
        factories.article(text, extractor=old)
    assert (
        db.session.scalars(select(Mention.canonical).where(Mention.category == "transport")).all()
        == ["private aircraft"] * 3
    )

    terms, mentions = apply_term_splits()
    assert mentions == 3
    assert apply_term_splits() == (0, 0)  # idempotent
    rows = {t.canonical: t for t in db.session.scalars(select(Term))}
    assert "drone" not in rows["private aircraft"].synonyms
    assert "drone" in rows["drone"].synonyms
    network = build_network(NetworkFilter(min_count=1), actor=None)
    nodes = {n for e in network.edges for n in (e.source, e.target)}
    assert "transport:drone" in nodes and "transport:private aircraft" not in nodes
    # a re-extraction with the stored lists keeps them apart too
    service.reextract(actor=Actor.system("test"))
    assert set(
        db.session.scalars(select(Mention.canonical).where(Mention.category == "transport"))
    ) == {"drone"}


RUSSIAN = (
    "Программы таможенного контроля\n\nТаможня изъяла 200 kg кокаина на судне MV Adriatic Star."
)


@pytest.fixture(scope="module")
def english_model():
    if find_model() is None:
        pytest.skip("no English spaCy model installed")
    return Extractor(builtin_term_specs(), model="auto")


def test_english_model_does_not_read_russian(db, english_model):
    article = factories.article(RUSSIAN, extractor=english_model)
    assert article.language == "ru"
    found = {(m.category, m.canonical, m.source) for m in article.mentions}
    assert not [f for f in found if f[2] == "model"]
    assert ("organisation", "Программы", "model") not in found
    # the rules still apply: the quantity is found
    assert {("quantity", "200 kg", "rules"), ("vessel", "Adriatic Star", "rules")} <= found
    assert article.extractor == "rules (no ru-language model)"


def test_english_model_still_reads_english(db, english_model):
    article = factories.article(
        "Customs officers at the port detained Ivan Horvat with 20 kg of cocaine.",
        extractor=english_model,
    )
    assert article.language == "en"
    assert ("person", "Ivan Horvat") in {(m.category, m.canonical) for m in article.mentions}
    assert article.extractor == english_model.name


def test_unknown_language_gets_rules_only(db, english_model):
    article = factories.article("Ivan Horvat", extractor=english_model)
    article.language = None
    extract_articles([article], extractor=english_model)
    assert [m for m in article.mentions if m.source == "model"] == []


@pytest.mark.parametrize(
    ("language", "model_labels"), [("detect", set()), ("ru", set()), ("any", {"organisation"})]
)
def test_extract_cli_keeps_the_model_to_its_language(
    runner, tmp_path, app, english_model, language, model_labels
):
    path = tmp_path / "article.txt"
    path.write_text("Программы таможенного контроля усилены.", encoding="utf-8")
    result = runner.invoke(
        args=["textmining", "extract", str(path), "--json", "--language", language]
    )
    assert result.exit_code == 0, result.output
    labels = {m["label"] for m in json.loads(result.output)["mentions"]}
    assert labels == model_labels
