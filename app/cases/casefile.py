"""The case file and the criminal-report referral as PDF (ReportLab).

Every page carries the handling code and conditions and the case's status in its header and
footer, so a page that leaves the folder still says how it may be shared. Printing is
trailed once, as ``print`` with the reason the user gave."""

import io
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.cases import catalog, fields
from app.cases.service import get_case
from app.core.errors import ValidationError
from app.core.time import now_utc
from app.security import trail
from app.security.access import Actor
from app.security.seams import label_for, redact_names

_FONTS: dict[str, str] = {}


def _fonts() -> tuple[str, str]:
    """A Unicode font (names like Đorđević, Шабац print as written): DejaVu when the system
    has it, else ReportLab's own Vera."""
    if _FONTS:
        return _FONTS["regular"], _FONTS["bold"]
    import reportlab

    candidates = [
        (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), "DejaVuSans-Bold.ttf"),
        (Path(reportlab.__file__).parent / "fonts" / "Vera.ttf", "VeraBd.ttf"),
    ]
    for regular, bold_name in candidates:
        bold = regular.parent / bold_name
        if regular.is_file() and bold.is_file():
            pdfmetrics.registerFont(TTFont("TG-Regular", str(regular)))
            pdfmetrics.registerFont(TTFont("TG-Bold", str(bold)))
            _FONTS.update(regular="TG-Regular", bold="TG-Bold")
            return _FONTS["regular"], _FONTS["bold"]
    _FONTS.update(regular="Helvetica", bold="Helvetica-Bold")
    return _FONTS["regular"], _FONTS["bold"]


def marking(case) -> str:
    """The line every page carries."""
    code = case.handling_code
    meaning = (
        "sharing with conditions (own unit and named shares only)"
        if code == "C"
        else "lawful sharing permitted"
    )
    text = f"HANDLING CODE {code} — {meaning}"
    if case.handling_conditions:
        text += f". Conditions: {case.handling_conditions}"
    return text


def _styles():
    regular, bold = _fonts()
    base = getSampleStyleSheet()
    body = ParagraphStyle("tg-body", parent=base["BodyText"], fontName=regular, fontSize=9)
    return {
        "body": body,
        "h1": ParagraphStyle("tg-h1", parent=base["Heading1"], fontName=bold, fontSize=15),
        "h2": ParagraphStyle("tg-h2", parent=base["Heading2"], fontName=bold, fontSize=11),
        "cell": ParagraphStyle("tg-cell", parent=body, fontSize=8, leading=10),
        "regular": regular,
        "bold": bold,
    }


def _p(text, style) -> Paragraph:
    return Paragraph(escape(str(text if text is not None else "—")).replace("\n", "<br/>"), style)


def _table(header, rows, st, widths=None):
    if not rows:
        return _p("None.", st["body"])
    data = [[_p(h, st["cell"]) for h in header]] + [[_p(c, st["cell"]) for c in r] for r in rows]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8ecf2")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _money(value) -> str:
    return "—" if value is None else f"{value:,.2f} EUR"


def _dt(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _party_rows(case, actor: Actor) -> list[tuple]:
    """Parties named only as far as the reader may open them (a shared case's reader may
    not open every entity in it): the seam rule, as on the case page."""
    return [
        (
            catalog.PARTY_ROLES.get(p.role, p.role),
            p.entity_type,
            label_for(actor, "entity", p.entity_id, p.entity_name),
        )
        for p in case.parties
    ]


def _redacted(case, actor: Actor, text: str | None) -> str | None:
    """``text`` (a journal line, the summary ...) with the parties and linked records the
    reader may not open named as "a restricted record of <unit>"."""
    named = [("entity", p.entity_id, p.entity_name) for p in case.parties] + [
        (lk.target_type, lk.target_id, lk.label) for lk in case.links
    ]
    return redact_names(actor, text, named) if text else text


def _render(case, title: str, story_of, actor: Actor) -> bytes:
    st = _styles()
    buffer = io.BytesIO()
    printed = f"Printed {_dt(now_utc())} by {actor.username}"
    status = catalog.STATUSES.get(case.status, case.status)
    width, height = A4
    # The whole marking on every page, wrapped (conditions may be long): never cut.
    lines = simpleSplit(marking(case), st["bold"], 8.5, width - 30 * mm)
    band = len(lines) * 10.5

    def page(canvas, doc):
        canvas.saveState()
        red = colors.HexColor("#8b0000") if case.handling_code == "C" else colors.black
        canvas.setFillColor(red)
        canvas.setFont(st["bold"], 8.5)
        for n, line in enumerate(lines):
            canvas.drawString(15 * mm, height - 10 * mm - n * 10.5, line)
            canvas.drawString(15 * mm, 12 * mm + band - (n + 1) * 10.5, line)
        canvas.setFillColor(colors.black)
        canvas.setFont(st["regular"], 8)
        canvas.drawString(
            15 * mm, height - 14 * mm - band + 10.5, f"{case.reference} · status: {status}"
        )
        canvas.drawString(15 * mm, 8 * mm, f"{case.reference} · {status} · {printed}")
        canvas.drawRightString(width - 15 * mm, 8 * mm, f"Page {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=18 * mm + band,
        bottomMargin=16 * mm + band,
        title=f"{title} {case.reference}",
        author="Tollgate",
    )
    doc.build(story_of(case, st, actor), onFirstPage=page, onLaterPages=page)
    return buffer.getvalue()


def _facts(case, st) -> list:
    rows = [
        ("Kind", catalog.KINDS.get(case.kind, case.kind)),
        ("Status", catalog.STATUSES.get(case.status, case.status)),
        ("Unit", case.unit.name if case.unit else case.unit_id),
        ("Opened", f"{_dt(case.opened_dt)} by {case.created_by_name}"),
        ("Date of the facts", _dt(case.event_dt)),
        ("Place", case.place),
        ("Transport", catalog.TRANSPORT_MODES.get(case.transport_mode, case.transport_mode)),
        ("Conveyance", case.conveyance),
        ("Declaration", case.declaration_number),
        ("Assignee", case.assignee.username if case.assignee else None),
        ("Total value", _money(case.total_value)),
    ]
    return [_table(("Field", "Value"), [r for r in rows if r[1] is not None], st, (45 * mm, None))]


def _case_story(case, st, actor) -> list:
    story = [_p(f"Case file {case.reference}", st["h1"]), _p(case.title, st["h2"])]
    story += [
        _p(_redacted(case, actor, case.summary) or "No summary.", st["body"]),
        Spacer(1, 4 * mm),
    ]
    story += _facts(case, st)
    sections = [
        (
            "Seized goods",
            ("#", "Area", "HS", "Description", "Quantity", "Value"),
            [
                (
                    i.position,
                    catalog.COMMODITY_AREAS.get(i.commodity_area, i.commodity_area),
                    i.hs_code,
                    i.description,
                    f"{i.quantity} {i.quantity_unit or ''}" if i.quantity is not None else None,
                    _money(i.value),
                )
                for i in case.items
            ],
        ),
        (
            "Parties",
            ("Role", "Type", "Name"),
            _party_rows(case, actor),
        ),
        (
            "Decisions",
            ("Version", "When, who", "Decision", "Evaded duties", "Penalty", "Reason"),
            [
                (
                    d.version,
                    f"{_dt(d.decided_dt)}, {d.decided_by_name}",
                    "Criminal report"
                    if d.decision_type == "criminal_report"
                    else "Offence decision",
                    _money(d.evaded_duties),
                    _money(d.penalty),
                    d.reason or d.legal_provision,
                )
                for d in case.decisions
            ],
        ),
        (
            "Tasks",
            ("Task", "Status", "Due", "Assignee"),
            [
                (t.title, t.status, t.due_date, t.assignee.username if t.assignee else None)
                for t in case.tasks
            ],
        ),
        (
            "Evidence",
            ("File", "Type", "Size", "SHA-256", "Uploaded"),
            [
                (
                    e.original_name,
                    e.content_type,
                    e.size,
                    e.sha256[:16] + "…",
                    f"{_dt(e.created_dt)}, {e.uploaded_by_name}",
                )
                for e in case.evidence
            ],
        ),
        (
            "Journal",
            ("When", "Who", "Kind", "Entry"),
            [
                (_dt(j.created_dt), j.author_name, j.kind, _redacted(case, actor, j.text))
                for j in case.journal
            ],
        ),
    ]
    for heading, header, rows in sections:
        story += [_p(heading, st["h2"]), _table(header, rows, st)]
    return story


def _print(case_id, actor: Actor, justification):
    justification = fields.text(justification, "justification", max_len=1000, required=True)
    case = get_case(case_id, actor=actor, log=False)
    return case, justification


def case_file(case_id, *, actor: Actor, justification) -> tuple[bytes, str]:
    """The case file as PDF, and its file name; the print is trailed with its reason."""
    case, justification = _print(case_id, actor, justification)
    data = _render(case, "Case file", _case_story, actor)
    trail.record(
        actor,
        "print",
        "case",
        case.id,
        justification=justification,
        details={"document": "case file", "handling_code": case.handling_code},
    )
    return data, f"case-{case.reference.replace('/', '-')}.pdf"


def _referral_story(case, st, actor) -> list:
    decision = case.decisions[-1]
    story = [
        _p("Criminal report — referral to the public prosecutor", st["h1"]),
        _p(f"Case {case.reference}: {case.title}", st["h2"]),
        _p(
            f"The evaded duties of {_money(decision.evaded_duties)} exceed the threshold of "
            f"{_money(decision.threshold)} above which the customs authority files a criminal "
            f"report instead of an offence decision (decision version {decision.version}, "
            f"{_dt(decision.decided_dt)}, {decision.decided_by_name}).",
            st["body"],
        ),
        _p("Legal provision", st["h2"]),
        _p(decision.legal_provision, st["body"]),
        _p("Statement of facts", st["h2"]),
        _p(_redacted(case, actor, decision.decision_text), st["body"]),
        Spacer(1, 4 * mm),
    ]
    story += _facts(case, st)
    story += [
        _p("Suspects and other parties", st["h2"]),
        _table(
            ("Role", "Type", "Name"),
            _party_rows(case, actor),
            st,
        ),
        _p("Evidence enclosed", st["h2"]),
        _table(
            ("File", "SHA-256"),
            [(e.original_name, e.sha256) for e in case.evidence],
            st,
        ),
    ]
    return story


def referral(case_id, *, actor: Actor, justification) -> tuple[bytes, str]:
    """The referral document of a criminal report (the current decision version)."""
    case, justification = _print(case_id, actor, justification)
    if case.decision_type != "criminal_report" or not case.decisions:
        raise ValidationError({"decision": "only a criminal report is referred to the prosecutor"})
    data = _render(case, "Referral", _referral_story, actor)
    trail.record(
        actor,
        "print",
        "case",
        case.id,
        justification=justification,
        details={"document": "referral", "decision_version": case.decisions[-1].version},
    )
    return data, f"referral-{case.reference.replace('/', '-')}.pdf"
