"""The sentinel world of the seam sweep (tests/access/test_sentinel_sweep.py).

Unit A owns code-C records (a case, an entity, links, a report, a declaration) whose every
free-text field carries its own sentinel ``SNTLQX<FIELD>``; a news article names one of them
by an alias. Unit B (every role, and an API client with every scope) watches and searches the
public records around them, so that each seam between domains carries a label from A to B:
a watched public entity gains a link to A's secret entity and is named in A's report and
declaration, B's saved search matches A's words, B's case shares a party and a conveyance
with A's case, B's entity shares an identifier with A's (resolution), and merges go both
ways (B's public entity and case merged into A's code-C ones).

Sentinels are uppercase ASCII so that HTML, JSON and CSV escaping cannot hide them; the sweep
looks for the prefix case-insensitively (fingerprints and tokens are lower case).
"""

import io
import re
from datetime import date, timedelta

from app.core.time import now_utc
from app.extensions import db
from app.security.access import Actor
from app.security.roles import ROLES

PREFIX = "SNTLQX"
FOUND = re.compile(PREFIX + r"[A-Z0-9]*", re.IGNORECASE)
#: the plain words that make A's records match B's searches and watches (they are not secret)
WORD = "kestrel"
ALIAS = "Vostok Ferrying"
PUBLIC_NAME = "Harbour Pub Trading"
CONVEYANCE = "Truck KX-998"


def s(field: str) -> str:
    """The sentinel of one field: ``SNTLQX`` and the field's name."""
    return PREFIX + re.sub(r"[^A-Z0-9]", "", field.upper())


def sentinels_in(text: str) -> list[str]:
    return sorted({m.group(0).upper() for m in FOUND.finditer(text or "")})


class SweepWorld:
    """Units, users, clients and records of the sweep; built once per test module."""

    def __init__(self, make):
        self.make = make
        self.unit_a = make.unit(code="SWA", name="Owning unit")
        self.unit_b = make.unit(code="SWB", name="Other unit")
        self.a_users = {r: make.user(roles=[r], unit=self.unit_a) for r in ROLES}
        self.b_users = {r: make.user(roles=[r], unit=self.unit_b) for r in ROLES}
        self.b_all = make.all_roles_user(unit=self.unit_b)
        self.b_all.email = "b-all@customs.test"
        for user in self.b_users.values():
            user.email = f"b-{user.username}@customs.test"

    def prefer_digest(self):
        """B's risk analyst reads alerts in a daily digest (set before any alert is raised)."""
        from app.alerts import service as alerts

        analyst = Actor.for_user(self.b_users["risk_analyst"])
        alerts.set_preference(analyst, email_mode="daily", min_severity="low")

    # -- unit A: the secrets ------------------------------------------------------------------
    def build_a(self):
        from app.intel import reports, service

        intel_a = Actor.for_user(self.a_users["intelligence_officer"])
        self.intel_a = intel_a
        self.pub = service.create_entity(
            "organisation",
            PUBLIC_NAME,
            actor=intel_a,
            identifiers={"eori": "DE112233445566"},
        )
        self.sec = service.create_entity(
            "person",
            f"{WORD.title()} {s('entity name')}",
            actor=intel_a,
            aliases=[s("entity alias"), ALIAS],
            identifiers={"passport": "K7654321"},
            attributes={"note": s("entity attribute")},
            handling_code="C",
            handling_conditions=s("entity conditions"),
        )
        self.sec2 = service.create_entity(
            "organisation",
            f"{WORD.title()} {s('second entity name')}",
            actor=intel_a,
            handling_code="C",
        )
        self.link_p = service.add_link(self.pub.id, self.sec.id, "associate_of", actor=intel_a)
        self.link_c = service.add_link(
            self.sec2.id,
            self.pub.id,
            "director_of",
            actor=intel_a,
            handling_code="C",
            start_date=date(2025, 1, 1),
        )
        self.report = reports.create_report(
            f"{WORD.title()} {s('report title')}",
            f"{s('report body')} names {PUBLIC_NAME}",
            "1",
            "A",
            actor=intel_a,
            handling_code="C",
            handling_conditions=s("report conditions"),
            sanitised_body=s("report sanitised"),
            entity_ids=[self.pub.id, self.sec.id],
        )
        self._case_a()
        self._declaration_a()
        db.session.flush()

    def _case_a(self):
        from app.cases import parties, service

        sup_a = Actor.for_user(self.a_users["supervisor"])
        self.case = service.open_case(
            "seizure",
            actor=sup_a,
            title=f"{WORD.title()} {s('case title')}",
            handling_code="C",
            handling_conditions=s("case conditions"),
            summary=s("case summary"),
            place=s("case place"),
            conveyance=s("case conveyance"),
            route_transit=s("case transit"),
            declaration_number=s("case declaration"),
            legal_provision=s("case provision"),
            referral=s("case referral"),
            journal_text=s("case journal"),
            items=[
                {
                    "commodity_area": "drugs",
                    "description": s("case item"),
                    "quantity": "2",
                    "quantity_unit": "kg",
                    "value": "40000",
                }
            ],
        )
        parties.add_party(self.case.id, actor=sup_a, role="driver", entity_id=self.sec.id)
        parties.add_party(self.case.id, actor=sup_a, role="owner", entity_id=self.pub.id)
        service.add_journal_entry(self.case.id, s("case journal two"), actor=sup_a)
        self.twin = service.open_case(
            "seizure",
            actor=sup_a,
            title=s("twin title"),
            handling_code="C",
            conveyance=CONVEYANCE,
        )
        parties.add_party(self.twin.id, actor=sup_a, role="owner", entity_id=self.pub.id)

    def _declaration_a(self):
        from app.risk.assessment import submit_declaration
        from app.risk.models import RiskProfile

        self.profile = RiskProfile(
            code="SWEEP1",
            name="Sweep sensitive profile",
            status="active",
            version=1,
            risk_area="test",
            assessment="",
            instructions="",
            channel="red",
            conditions={
                "join": "and",
                "conditions": [{"field": "hs_code", "op": "prefix", "value": ["8517"]}],
            },
            is_sensitive=True,
            recipients={"users": [], "units": [self.unit_b.id], "roles": []},
        )
        db.session.add(self.profile)
        db.session.flush()
        self.declaration = submit_declaration(
            {
                "number": s("decl number"),
                "date": "2026-03-02",
                "office": "BCP-N",
                "importer": "DE112233445566",
                "declarant": s("decl declarant"),
                "seller": s("decl seller"),
                "items": [
                    {
                        "hs_code": "8517620000",
                        "origin": "CN",
                        "value": 100,
                        "mass": 1,
                        "description": s("decl item"),
                    }
                ],
            },
            actor=Actor.system("sweep"),
            unit_id=self.unit_a.id,
        )
        self.declaration.handling_code = "C"

    # -- unit B: the watchers -----------------------------------------------------------------
    def build_b(self, webhook_url=None, secret=None):
        from app.alerts import service as alerts
        from app.alerts import watches
        from app.cases import parties
        from app.cases import service as cases
        from app.intel import service as intel

        intel_b = Actor.for_user(self.b_users["intelligence_officer"])
        sup_b = Actor.for_user(self.b_users["supervisor"])
        all_b = Actor.for_user(self.b_all)
        me = {"users": [self.b_all.id], "units": [], "roles": []}
        self.watch = watches.watch_entity(all_b, self.pub.id, severity="high", recipients=me)
        watches.watch_term(all_b, WORD, severity="high", recipients=me)
        watches.save_search(all_b, name="Sweep search", query=WORD, severity="high", recipients=me)
        if webhook_url:
            self.webhook = alerts.add_webhook(
                sup_b, name="Sweep hook", url=webhook_url, min_severity="low", secret=secret
            )
        self.b_entity = intel.create_entity(
            "person", "Other Person", actor=intel_b, identifiers={"passport": "K7654321"}
        )
        self.b_merged = intel.create_entity("person", "Merged Person", actor=intel_b)
        self.b_case = cases.open_case(
            "seizure", actor=sup_b, title="B seizure", conveyance=CONVEYANCE
        )
        parties.add_party(self.b_case.id, actor=sup_b, role="owner", entity_id=self.pub.id)
        self.b_dup = cases.open_case("seizure", actor=sup_b, title="B duplicate seizure")
        db.session.flush()

    # -- seams that carry A's labels to B (after B watches) -----------------------------------
    def cross(self):
        from app.cases import merging, parties
        from app.intel import resolution, service

        intel_a = self.intel_a
        sup_a = Actor.for_user(self.a_users["supervisor"])
        # A watched public entity gains a link to a code-C entity, and is named in A's records.
        self.link_new = service.add_link(self.pub.id, self.sec2.id, "owns", actor=intel_a)
        parties.add_party(self.case.id, actor=sup_a, role="consignee", entity_id=self.pub.id)
        # Merges both ways: B's public entity and case go into A's code-C ones.
        self.merge_in = resolution.merge_entities(self.sec.id, self.b_merged.id, actor=intel_a)
        merging.merge_cases(self.case.id, self.b_dup.id, actor=sup_a)
        # B's entity shares A's identifier: a resolution candidate pair across units.
        resolution.propose_candidates(self.b_entity)
        db.session.flush()
        self._ended_shares()

    def _ended_shares(self):
        """Shares with unit B that ended (one revoked, one expired): they open nothing."""
        from app.security import shares

        intel_a = self.intel_a
        soon = now_utc() + timedelta(days=1)
        for record_type, record in (("report", self.report), ("entity", self.sec)):
            share = shares.create_share(
                record_type,
                record.id,
                actor=intel_a,
                reason="sweep: shared then revoked",
                expires=soon,
                unit_id=self.unit_b.id,
            )
            shares.revoke_share(share.id, actor=intel_a)
        expired = shares.create_share(
            "case",
            self.case.id,
            actor=Actor.for_user(self.a_users["supervisor"]),
            reason="sweep: shared until yesterday",
            expires=soon,
            user_id=self.b_all.id,
        )
        expired.expires_dt = now_utc() - timedelta(days=1)
        db.session.flush()
        self._live_share()

    def _live_share(self):
        """A code-C case of A shared with unit B (active): B may read it, but not the
        secret records it names (its parties, its linked case)."""
        from app.cases import parties
        from app.cases import service as cases
        from app.security import shares

        sup_a = Actor.for_user(self.a_users["supervisor"])
        self.shared = cases.open_case(
            "seizure", actor=sup_a, title="Shared seizure", handling_code="C"
        )
        parties.add_party(self.shared.id, actor=sup_a, role="driver", entity_id=self.sec.id)
        parties.add_party(self.shared.id, actor=sup_a, role="owner", entity_id=self.pub.id)
        cases.add_link(self.shared.id, "case", self.twin.reference, actor=sup_a)
        shares.create_share(
            "case",
            self.shared.id,
            actor=sup_a,
            reason="sweep: joint operation",
            expires=now_utc() + timedelta(days=30),
            unit_id=self.unit_b.id,
        )
        db.session.flush()

    def article(self):
        from tests.textmining import factories as news

        self.feed = news.feed(title="Sweep feed", keywords=[WORD])
        self.news = news.article(
            f"{ALIAS} and {PUBLIC_NAME} seen with a {WORD} shipment in port.",
            title=f"{WORD.title()} shipment in port",
            feed_row=self.feed,
        )
        from app.textmining.models import Mention

        nodes = db.session.scalars(
            db.select(Mention).where(Mention.article_id == self.news.id).order_by(Mention.id)
        ).all()
        #: two names of the article: an edge of the news network
        self.news_edge = sorted({f"{m.category}:{m.canonical}" for m in nodes})[:2]
        db.session.flush()

    def run_jobs(self):
        """The worker's jobs: saved searches, escalations, digests, then every delivery."""
        from app.alerts import delivery, tasks
        from app.audit import service as audit
        from app.search import service as search
        from app.security import trail

        search.apply_index_queue()
        audit.compute_ratings(actor=Actor.system("sweep"), as_of=date(2026, 3, 31))
        # A's analyst searched for a secret name: the trail row names it (trail views).
        trail.record(self.intel_a, "search", "entity", None, query=s("a search"))
        db.session.commit()
        tasks.run_saved_searches()
        tasks.queue_digests(now=now_utc() + timedelta(days=1, hours=1))
        tasks.escalate_overdue(now=now_utc() + timedelta(days=3))
        db.session.commit()
        delivery.deliver_due()
        db.session.commit()


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def evidence(world):
    from app.cases import evidence as ev

    return ev.store_evidence(
        world.case.id,
        io.BytesIO(PNG),
        f"{s('evidence name')}.png",
        actor=Actor.for_user(world.a_users["supervisor"]),
    )
