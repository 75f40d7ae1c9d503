"""The intake validator never crashes and never echoes input (SEC-17, SEC-18): properties."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.identifiers import InvalidANumber, normalize_a_number
from cases.validation import FIELDS, CaseRequestInvalid, ReferenceCache, case_request_clean
from tests.cases.conftest import case_data

pytestmark = pytest.mark.django_db

# One cache for all examples: the reference data does not change between them.
REFS = ReferenceCache()
text = st.one_of(st.none(), st.text(max_size=80), st.text(alphabet="A0123456789- ", max_size=14))


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=text)
def test_an_a_number_is_either_canonical_or_a_field_error(raw):
    try:
        cleaned = case_request_clean(case_data(a_number=raw), refs=REFS)
    except CaseRequestInvalid as error:
        assert set(error.errors) == {"a_number"}
        assert error.errors["a_number"] == [InvalidANumber().message]  # fixed text, no echo
        with pytest.raises(InvalidANumber):
            normalize_a_number(raw)
        return
    expected = "" if raw is None or not raw.strip() else normalize_a_number(raw)
    assert cleaned["a_number"] == expected


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.dictionaries(st.sampled_from(FIELDS), text, max_size=len(FIELDS)))
def test_any_input_gives_clean_data_or_field_errors_never_a_crash(data):
    try:
        cleaned = case_request_clean(data, refs=REFS)
    except CaseRequestInvalid as error:
        assert error.errors and set(error.errors) <= set(FIELDS)
    else:
        assert set(cleaned) == set(FIELDS)
