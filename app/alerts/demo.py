"""Demo watches and saved searches (alerts from sensitive profiles come with the risk demo)."""

from sqlalchemy import select

from app.alerts.models import SavedSearch, Watch
from app.alerts.subjects import model_for
from app.extensions import db
from app.security.models import User

DEMO_TERMS = ("captagon", "cocaine", "counterfeit cigarettes")


def load_alerts_demo(options) -> None:
    intel = db.session.scalar(select(User).where(User.username == "intel"))
    analyst = db.session.scalar(select(User).where(User.username == "analyst"))
    if intel is not None:
        for term in DEMO_TERMS:
            if not db.session.scalar(
                select(Watch.id).where(Watch.owner_id == intel.id, Watch.term == term)
            ):
                db.session.add(
                    Watch(
                        kind="term",
                        term=term,
                        label=term,
                        severity="medium",
                        owner_id=intel.id,
                        unit_id=intel.unit_id,
                        recipients={},
                    )
                )
        entity_model = model_for("entity")
        if entity_model is not None and not db.session.scalar(
            select(Watch.id).where(Watch.owner_id == intel.id, Watch.kind == "entity")
        ):
            entity = db.session.scalar(select(entity_model).order_by(entity_model.id).limit(1))
            if entity is not None:
                db.session.add(
                    Watch(
                        kind="entity",
                        entity_id=entity.id,
                        label=entity.name,
                        severity="high",
                        owner_id=intel.id,
                        unit_id=intel.unit_id,
                        recipients={},
                    )
                )
    if analyst is not None and not db.session.scalar(
        select(SavedSearch.id).where(SavedSearch.owner_id == analyst.id)
    ):
        db.session.add(
            SavedSearch(
                name="Tobacco smuggling",
                query="tobacco cigarettes",
                severity="low",
                owner_id=analyst.id,
                unit_id=analyst.unit_id,
                recipients={},
            )
        )
    db.session.flush()
