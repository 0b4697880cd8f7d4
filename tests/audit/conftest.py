import pytest

from app.audit import lifecycle


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    """The live scorer caches the active model per process; tests start without one."""
    lifecycle._cache.forget()
    yield
    lifecycle._cache.forget()
