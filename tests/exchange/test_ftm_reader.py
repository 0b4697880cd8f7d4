"""The FtM line reader (app.exchange.ftm): every bad line is refused with its number, the
entity id when it has one, and the reason; good lines come back as followthemoney proxies."""

import io
import json

import pytest

from app.exchange import ftm

GOOD = {"id": "p1", "schema": "Person", "properties": {"name": ["Ivan Petrov"]}}


def _line(**changes) -> bytes:
    data = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        if key.startswith("prop_"):
            data["properties"][key[5:]] = value
        else:
            data[key] = value
    return json.dumps(data).encode()


HOSTILE = [
    (b"\xff\xfe{}", "not valid UTF-8"),
    (b'{"id": ', "not valid JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"id": "x", "schema": "Person", "properties": {"name": [NaN]}}', "not valid JSON"),
    (b"[" * 40 + b"]" * 40, "deeper than"),
    (b'{"id": "p1", "schema": "Person", "properties": {"name": ["a\\u0000b"]}}', "NUL"),
    (b'{"id": "p1", "schema": "Person", "properties": {"name": ["\\ud800"]}}', "surrogate"),
    (_line(id=""), "no entity id"),
    (_line(id=7), "no entity id"),
    (_line(schema="Dragon"), "unknown schema 'Dragon'"),
    (_line(schema="Thing"), "abstract"),
    (_line(prop_colour=["red"]), "unknown property 'colour' of schema 'Person'"),
    (_line(prop_name="Ivan"), "not a list of texts"),
    (_line(prop_name=[1]), "not a list of texts"),
    (_line(prop_birthDate=["yesterday"]), "'birthDate'"),
    (_line(prop_nationality=["xx"]), "'nationality'"),
    (_line(properties=[]), "'properties' is not an object"),
    (_line(extra="?"), "unknown key 'extra'"),
    (b'{"id": "d1", "schema": "Directorship", "properties": {"director": ["p1"]}}', "required"),
    (b"x" * (ftm.MAX_LINE_BYTES + 1), "longer than"),
]


@pytest.mark.parametrize(("raw", "reason"), HOSTILE)
def test_a_bad_line_is_refused_with_its_number_and_reason(raw, reason):
    stream = io.BytesIO(json.dumps(GOOD).encode() + b"\n\n" + raw + b"\n")
    reader = ftm.read_proxies(stream)
    number, proxy = next(reader)
    assert (number, proxy.id) == (1, "p1")
    with pytest.raises(ftm.FtmLineError) as exc:
        next(reader)
    assert exc.value.line == 3
    assert str(exc.value).startswith("line 3")
    assert reason in str(exc.value)


def test_good_lines_are_proxies_with_their_context_kept():
    line = _line(datasets=["ofac"], prop_alias=["Иван Петров"])
    (number, proxy), *_ = list(ftm.read_proxies([line]))
    assert number == 1
    assert proxy.schema.name == "Person"
    assert proxy.get("alias") == ["Иван Петров"]
    assert json.loads(ftm.dumps(proxy))["datasets"] == ["ofac"]


def test_the_schemata_taken_can_be_limited():
    with pytest.raises(ftm.FtmLineError, match="not one this import takes"):
        list(ftm.read_proxies([_line()], schemata={"Company"}))


def test_batches_split_without_loss():
    assert [len(b) for b in ftm.batches(range(2500), 1000)] == [1000, 1000, 500]
