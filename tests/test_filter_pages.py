"""Every list page's filter <select> comes from the ``filter_select`` macro (issue 21) with
the names and values its links already use: a filtered link opens with its choices shown."""

import re

import pytest
from flask import render_template_string

from app.security import roles

ALL_ROLES = [
    roles.INTELLIGENCE_OFFICER,
    roles.RISK_ANALYST,
    roles.PCA_AUDITOR,
    roles.SUPERVISOR,
    roles.ENFORCEMENT_OFFICER,
    roles.ADMINISTRATOR,
    roles.DATA_PROTECTION_OFFICER,
]

# url -> (select name, value shown selected) pairs
PAGES = {
    "/cases/?status=active&assignee=none&sort=opened&order=asc&kind=offence": [
        ("status", "active"),
        ("assignee", "none"),
        ("sort", "opened"),
        ("order", "asc"),
        ("kind", "offence"),
    ],
    "/cases/": [("sort", "event"), ("order", "desc")],
    "/cases/statistics?months=24": [("months", "24")],
    "/intel/entities?type=person": [("type", "person")],
    "/intel/resolution?judgement=all": [("judgement", "all")],
    "/risk/declarations?channel=red&result=fraud&random=1": [
        ("channel", "red"),
        ("result", "fraud"),
        ("random", "1"),
    ],
    "/risk/kpis?by=week": [("by", "week")],
    "/audit/?band=high": [("band", "high")],
    "/trail?outcome=denied&action=view": [("outcome", "denied"), ("action", "view")],
    "/news/?language=en": [("language", "en")],
    "/news/network?scope=sentence&category_a=person": [
        ("scope", "sentence"),
        ("category_a", "person"),
    ],
    "/news/network/compare?scope=sentence&category_b=vessel": [
        ("scope", "sentence"),
        ("category_b", "vessel"),
    ],
    "/news/workbench?category=vessel": [("category", "vessel")],
}


def _selected(page: str, name: str) -> list[str]:
    match = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert match, f"no <select name={name!r}>"
    return re.findall(r'<option value="([^"]*)" selected>', match.group(1))


@pytest.mark.parametrize("url", list(PAGES))
def test_a_filtered_link_opens_with_its_choices_selected(client, login_as, make, db, url):
    login_as(make.user(roles=ALL_ROLES))
    resp = client.get(url)
    assert resp.status_code == 200, url
    page = resp.get_data(as_text=True)
    for name, value in PAGES[url]:
        if name == "language" and 'value="en"' not in page:
            continue  # no English article stored: the option is not offered
        assert _selected(page, name) == [value], (url, name)


def test_filter_select_takes_records_and_numbers(app):
    source = (
        '{% from "macros.html" import filter_select %}'
        "{{ filter_select('unit', 'Unit', units, blank='any', value_attr='id', text_attr='code') }}"
        "{{ filter_select('months', 'Period', [(3, 'last 3'), (12, 'last 12')], selected=12) }}"
    )

    class Unit:
        def __init__(self, id, code):
            self.id, self.code = id, code

    with app.test_request_context("/?unit=7"):
        html = render_template_string(source, units=[Unit(5, "BX"), Unit(7, "IU")])
    assert '<option value="7" selected>IU</option>' in html
    assert '<option value="5">BX</option>' in html
    assert '<option value="12" selected>last 12</option>' in html
