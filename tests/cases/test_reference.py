import pytest

from cases.models import CaseType, ImmigrationCourt, Language
from cases.reference import COMMON_LANGUAGES, COURTS, load_reference_data

pytestmark = pytest.mark.django_db


def test_every_court_in_domain_md_is_loaded_with_coordinates():
    assert ImmigrationCourt.objects.count() == len(COURTS) == 64
    for court in ImmigrationCourt.objects.all():
        assert 17 < court.latitude < 50 and -160 < court.longitude < -64, court.code
    assert ImmigrationCourt.objects.filter(detained_only=True).count() == 17


def test_common_languages_come_first_in_pick_lists():
    first = list(Language.objects.values_list("code", flat=True)[: len(COMMON_LANGUAGES)])
    assert first == COMMON_LANGUAGES
    assert Language.objects.get(code="mam").name == "Mam"
    assert Language.objects.count() > 7000


def test_case_types_are_loaded():
    assert CaseType.objects.get(code="bond").detained_only
    assert CaseType.objects.get(code="bia-appeal").remote_capable
    assert CaseType.objects.count() == 12


def test_loading_again_changes_nothing_and_refresh_restores_edits():
    ImmigrationCourt.objects.filter(code="miami").update(name="Edited")
    counts = load_reference_data(refresh=False)
    assert ImmigrationCourt.objects.get(code="miami").name == "Edited"
    assert load_reference_data(refresh=True) == counts
    assert ImmigrationCourt.objects.get(code="miami").name == "Miami"
    assert Language.objects.count() == counts["languages"]
