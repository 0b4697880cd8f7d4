"""Cases: seizures, offences, post-clearance audit cases and investigations, with items,
parties, tasks, journal, evidence, statistics, import and a JSON API."""

from flask import url_for
from sqlalchemy import select

from app.core.registry import (
    DemoLoader,
    HomePanel,
    NavItem,
    add_demo_loader,
    add_home_panel,
    add_nav_item,
)


def _search_documents(ids):
    from sqlalchemy.orm import selectinload

    from app.cases.models import Case
    from app.extensions import db
    from app.search.registry import SearchDoc

    # items and parties in two queries per batch, not two per case (a rebuild reads them all)
    stmt = (
        select(Case)
        .where(Case.merged_into_id.is_(None))
        .options(selectinload(Case.items), selectinload(Case.parties))
    )
    if ids is not None:
        stmt = stmt.where(Case.id.in_(list(ids)))
    for case in db.session.scalars(stmt.execution_options(yield_per=500)):
        body = " ".join(
            filter(
                None,
                [
                    case.summary,
                    case.place,
                    case.conveyance,
                    case.declaration_number,
                    case.route_origin,
                    case.route_transit,
                    case.route_destination,
                    case.trader_name,
                    case.legal_provision,
                    case.findings,
                    *(f"{i.description} {i.hs_code or ''}" for i in case.items),
                    *(p.entity_name for p in case.parties),
                ],
            )
        )
        yield SearchDoc(
            record_type="case",
            record_id=case.id,
            title=f"{case.reference} {case.title}",
            body=body,
            names=[
                case.reference,
                *(p.entity_name for p in case.parties),
                *([case.conveyance] if case.conveyance else []),
            ],
            date=case.event_dt,
            unit_id=case.unit_id,
            handling_code=case.handling_code,
            named=[("entity", p.entity_id, p.entity_name) for p in case.parties],
            facets={
                "kind": case.kind,
                "status": case.status,
                "commodity_area": case.commodity_area or "",
            },
        )


def _visible_ids(actor, ids):
    from app.cases.models import Case
    from app.extensions import db
    from app.security.access import visible_clause

    if not actor.can("case.view") or not ids:
        return []
    return list(
        db.session.scalars(
            select(Case.id).where(Case.id.in_(list(ids)), visible_clause(actor, Case))
        )
    )


def _home_panel(actor):
    from app.cases.case_tasks import my_work

    return my_work(actor)


def _add_jobs(app):
    from app.cases.tasks import refresh_planner_statistics
    from app.jobs.registry import JobSpec, add_job

    add_job(
        app,
        JobSpec(
            "cases-analyze",
            refresh_planner_statistics,
            "cron",
            {"hour": 3, "minute": 17},
            "Refresh planner statistics of the case table",
        ),
    )


def _add_record_actions(app, service) -> None:
    """Other domains open, find, create, link and note on cases through app.core.records
    (intel's charts, alerts' "open a case from this alert"), importing nothing of cases."""
    from app.core.records import RecordActions, add_record_actions

    add_record_actions(
        app,
        RecordActions(
            "case",
            open=service.get_case,
            note=service.add_journal_entry,
            find=service.case_for_reference,
            create=service.open_case,
            link=service.add_link,
        ),
    )


def init_app(app):
    from app.cases import retention
    from app.core.retention import register_sources

    register_sources(app, retention.SOURCES)  # closed cases come up for review

    # CaseParty.entity_id points at the registry's table, so its models must be loaded too.
    from app.cases import (  # noqa: F401
        api,
        demo,
        import_views,
        models,
        receivers,
        service,
        views,
        views_actions,
        views_file,
        views_stats,
    )
    from app.intel import entity_types as _registry_models  # noqa: F401
    from app.search.registry import SearchSource, add_search_source

    app.register_blueprint(views.bp)
    api.init_app(app)
    receivers.connect()  # seizure cases from control results (app.core.signals)
    _add_record_actions(app, service)
    add_nav_item(
        app,
        NavItem(
            "Cases",
            "cases.index",
            "case.view",
            order=20,
            children=(
                ("All cases", "cases.index", "case.view"),
                ("Seizures", "cases.seizures", "case.view"),
                ("Offences", "cases.offences", "case.view"),
                ("Post-clearance audits", "cases.audits", "case.view"),
                ("Record a seizure", "cases.new_seizure", "case.create"),
                ("Statistics", "cases.statistics", "case.stats"),
                ("Import seizures (CSV)", "cases.import_upload", "case.create"),
            ),
        ),
    )
    add_home_panel(
        app,
        HomePanel(
            "My cases and tasks",
            "cases/_home_panel.html",
            _home_panel,
            permission="case.view",
            order=20,
        ),
    )
    add_search_source(
        app,
        SearchSource(
            record_type="case",
            label="Cases",
            permission="case.view",
            documents=_search_documents,
            visible_ids=_visible_ids,
            url=lambda record_id: url_for("cases.detail", case_id=record_id),
        ),
    )
    add_demo_loader(app, DemoLoader("cases", demo.load_case_demo, order=30))
    _add_jobs(app)
    from app.cases.cli import cases_group

    app.cli.add_command(cases_group)
