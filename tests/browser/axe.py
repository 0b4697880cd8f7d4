"""axe-core in every page the browser tests open: WCAG 2.1 AA by check, not by hope.

A customs administration is bound by EN 301 549 (WCAG 2.1 AA). ``watch(context)`` injects the
vendored axe-core (tests/browser/vendor/axe.min.js, axe-core from the npm registry, MPL-2.0,
its licence beside it) into every document of a browser context and runs it once the document
has loaded; each run reports back to Python through an exposed binding. ``Audit.check()`` (the
``page`` fixture calls it after each test) fails on any serious or critical violation.

The scripts go in through the DevTools protocol, so the app's Content-Security-Policy (no
inline script) does not stop them, and the app ships nothing for it.
"""

import json
from pathlib import Path

import pytest

VENDOR = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
IMPACTS = ("serious", "critical")

# Runs in every document before its own scripts. Only top-level HTML pages of the app are
# checked (not about:blank, downloads shown inline, or frames); one run per document, started
# after "load" so the page's own scripts have drawn what they draw on load.
_RUNNER = """
(() => {
  if (window.top !== window || !/^https?:$/.test(location.protocol)) return;
  let settle;
  window.__tollgateAxeDone = new Promise((resolve) => { settle = resolve; });
  const options = {runOnly: {type: "tag", values: __TAGS__}, resultTypes: ["violations"]};
  const report = (body) => window.__tollgateAxeReport(body);
  window.__tollgateAxeRun = () => axe.run(document, options).then((result) =>
    result.violations.filter((v) => __IMPACTS__.includes(v.impact)).map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 6).map((n) => ({
        target: n.target.join(" "), html: n.html.slice(0, 160),
        summary: (n.failureSummary || "").split("\\n").slice(1, 3).join(" ").trim(),
      })),
    })));
  const run = () => {
    if (document.contentType !== "text/html" || !window.axe) { settle(null); return; }
    window.__tollgateAxeRun()
      .then((violations) => report({url: location.href, title: document.title, violations}))
      .catch((err) => report({url: location.href, error: String(err)}))
      .finally(() => settle(true));
  };
  if (document.readyState === "complete") setTimeout(run, 0);
  else window.addEventListener("load", () => setTimeout(run, 0), {once: true});
})();
""".replace("__TAGS__", json.dumps(TAGS)).replace("__IMPACTS__", json.dumps(list(IMPACTS)))


class Audit:
    """What axe-core found in the pages of one test's browser contexts."""

    def __init__(self):
        self.reports: list[dict] = []
        self.contexts: list = []

    def watch(self, context) -> None:
        context.expose_binding("__tollgateAxeReport", lambda _source, body: self._add(body))
        context.add_init_script(path=str(VENDOR))
        context.add_init_script(_RUNNER)
        self.contexts.append(context)

    def _add(self, body) -> None:
        self.reports.append(body)

    def settle(self) -> None:
        """Wait for the runs still going in the pages left open (the last page of a test)."""
        for context in self.contexts:
            try:
                pages = context.pages
            except Exception:  # noqa: BLE001, S112 - a closed context has reported already
                continue
            for pg in pages:
                try:
                    pg.evaluate("() => window.__tollgateAxeDone || null")
                except Exception:  # noqa: BLE001, S112 - closed or navigating: nothing to wait for
                    continue

    def failures(self) -> list[str]:
        lines = []
        for body in self.reports:
            if body.get("error"):
                lines.append(f"{body['url']}: axe-core did not run: {body['error']}")
            for v in body.get("violations") or []:
                lines.append(f"{body['url']}: {v['impact']} {v['id']}: {v['help']}")
                lines += [f"    {n['target']}  {n['summary']}  {n['html']}" for n in v["nodes"]]
        return lines

    def check(self) -> None:
        self.settle()
        lines = self.failures()
        if lines:
            pytest.fail(
                "axe-core: serious or critical WCAG 2.1 AA violations\n" + "\n".join(lines),
                pytrace=False,
            )


def violations_now(page) -> list[dict]:
    """Run axe-core again on the page as it is now (after a script has drawn more)."""
    page.evaluate("() => window.__tollgateAxeDone")
    return page.evaluate("() => window.__tollgateAxeRun()")
