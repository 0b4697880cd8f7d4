"""The registry's entity types, for other domains' forms and checks (a domain never imports
another's models: ``.importlinter``)."""

from app.intel.models import ENTITY_TYPES

__all__ = ["ENTITY_TYPES"]
