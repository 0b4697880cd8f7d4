"""Property test: no script, event handler or script-bearing URL survives the HTML sanitiser."""

import html
import re
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.textmining.ingest import sanitize_html

SCHEMES = ["javascript:", "JaVaScRiPt:", "vbscript:", "data:text/html,", " javascript:"]
OBFUSCATIONS = [
    lambda s: s,
    lambda s: s.replace(":", "&#58;"),
    lambda s: s.replace("a", "&#x61;", 1),
    lambda s: s[:4] + "\t" + s[4:],
    lambda s: s[:4] + "&#10;" + s[4:],
    lambda s: "\x01" + s,
]
TAGS = ["a", "img", "p", "div", "svg", "iframe", "object", "embed", "form", "math", "b", "span"]
URL_ATTRS = ["href", "src", "action", "formaction", "xlink:href", "background", "poster"]


@st.composite
def hostile_url(draw):
    scheme = draw(st.sampled_from(SCHEMES))
    return draw(st.sampled_from(OBFUSCATIONS))(scheme + "alert(document.cookie)")


@st.composite
def attribute(draw):
    kind = draw(st.integers(0, 2))
    if kind == 0:
        name = draw(st.sampled_from(["onclick", "onerror", "ONLOAD", "onmouseover", "onfocus"]))
        return f'{name}="alert(1)"'
    if kind == 1:
        return f'{draw(st.sampled_from(URL_ATTRS))}="{draw(hostile_url())}"'
    return draw(st.sampled_from(['title="x"', 'class="c"', 'style="background:url(javascript:x)"']))


@st.composite
def fragment(draw, depth=0):
    kind = draw(st.integers(0, 4 if depth < 3 else 1))
    if kind == 0:
        return html.escape(draw(st.text(max_size=20)))
    if kind == 1:
        return draw(
            st.sampled_from(
                [
                    "<script>alert(1)</script>",
                    "<ScRiPt src=//evil.example/x.js></ScRiPt>",
                    "<scr<script>ipt>alert(1)</script>",
                    "<!--<script>alert(1)</script>-->",
                    "<style>*{background:url(javascript:alert(1))}</style>",
                    "<img src=x onerror=alert(1)>",
                    "<svg/onload=alert(1)>",
                    "<a href=javascript:alert(1)>x</a>",
                    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
                    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
                ]
            )
        )
    tag = draw(st.sampled_from(TAGS))
    attrs = " ".join(draw(st.lists(attribute(), max_size=3)))
    inner = "".join(draw(st.lists(fragment(depth=depth + 1), max_size=3)))
    return f"<{tag} {attrs}>{inner}</{tag}>"


class _Audit(HTMLParser):
    """Collects whatever in the sanitised output could still run script."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style", "iframe", "object", "embed", "svg", "math", "meta", "form"}:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag}[{name}]")
            if name == "style":
                self.problems.append(f"{tag}[style]")
            url = re.sub(r"[\x00-\x20]", "", html.unescape(value or "")).lower()
            if url.startswith(("javascript:", "vbscript:", "data:")):
                self.problems.append(f"{tag}[{name}={value}]")

    handle_startendtag = handle_starttag


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(doc=st.lists(fragment(), min_size=1, max_size=5).map("".join))
def test_nothing_that_runs_script_survives(doc):
    audit = _Audit()
    audit.feed(sanitize_html(doc))
    audit.close()
    assert not audit.problems, audit.problems


def test_the_audit_itself_sees_script():
    """The oracle is not blind: unsanitised hostile HTML is flagged."""
    audit = _Audit()
    audit.feed('<a href="jav&#x61;script:alert(1)" onclick="x">y</a><script>z</script>')
    assert len(audit.problems) == 3
