"""The pledge form as people use it (issue 12 #10): checkbox groups instead of multi-select
boxes, an error summary at the top, and a period that starts today."""

import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseType, ImmigrationCourt
from pledges.forms import _a_year_after
from pledges.models import Pledge
from tests.pledges.helpers import form_data, fresh_cache  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]
NEW = reverse("pledges:new")


@pytest.fixture
def choices():
    court = ImmigrationCourt.objects.create(
        code="test-nyc", name="New York Broadway", city="New York", state="NY", zip_code="10278",
        latitude=40.7, longitude=-74.0,
    )  # fmt: skip
    kind = CaseType.objects.create(code="test-kind", name="Test kind of case")
    return court, kind


def test_courts_and_kinds_of_case_are_checkbox_groups(client, choices):
    body = client.get(NEW).content.decode()
    for name in ("courts", "languages", "case_types"):
        assert re.search(rf'type="checkbox"[^>]*name="{name}"', body) or name == "languages"
    assert not re.search(r"<select[^>]*multiple", body)
    assert body.count('class="mb-3 checkbox-search"') == 3
    assert "js/pledge-form.js" in body
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body)  # no inline script (SEC-2)


def test_ticked_boxes_are_saved(client, choices):
    court, kind = choices
    response = client.post(NEW, form_data(courts=[str(court.pk)], case_types=[kind.pk]))
    assert response.status_code == 302
    pledge = Pledge.objects.get()
    assert list(pledge.courts.all()) == [court] and list(pledge.case_types.all()) == [kind]


def test_a_refused_form_lists_every_error_at_the_top_with_links(client, choices):
    data = form_data(contact_name="", amount="0", courts=["999999"])
    response = client.post(NEW, data)
    assert response.status_code == 200 and not Pledge.objects.exists()
    body = response.content.decode()
    summary = body[
        body.index("data-error-summary") : body.index("</div>", body.index("data-error-summary"))
    ]
    assert 'href="#id_contact_name"' in summary and 'href="#id_amount"' in summary
    assert 'href="#div_id_courts"' in summary  # a checkbox group: its wrapper
    assert 'id="div_id_courts"' in body and 'id="id_amount"' in body  # the targets exist
    assert "3 things to fix" in summary
    assert 'value="Robin Counsel"' not in body and 'value="robin@hudsonpine.example"' in body
    assert Pledge.objects.count() == 0


def test_the_period_defaults_to_the_next_twelve_months(client):
    today = timezone.localdate()
    body = client.get(NEW).content.decode()
    assert f'name="period_start" value="{today.isoformat()}"' in body
    assert f'name="period_end" value="{_a_year_after(today).isoformat()}"' in body


def test_a_year_after_the_29th_of_february_is_the_28th():
    assert _a_year_after(date(2028, 2, 29)) == date(2029, 2, 28)
    assert _a_year_after(date(2026, 12, 6)) == date(2027, 12, 6)


def _clock_at(monkeypatch, moment: float) -> None:
    monkeypatch.setattr("core.ratelimit._clock", lambda: moment)


def test_over_the_limit_the_form_keeps_what_was_typed_and_states_the_wait(  # SEC-19
    client, monkeypatch
):
    _clock_at(monkeypatch, 1_000_000.0)
    for n in range(5):
        client.post(NEW, form_data(organization_name=f"Firm {n}", contact_email=f"c{n}@x.org"))
    _clock_at(monkeypatch, 1_000_025.0)  # 25 seconds into the window
    response = client.post(NEW, form_data(message="Our partners will take detained cases."))
    assert response.status_code == 429
    body = response.content.decode()
    assert "Please wait 35 seconds" in body
    assert "Our partners will take detained cases." in body
    assert 'value="Hudson &amp; Pine LLP"' in body
    _clock_at(monkeypatch, 1_000_050.0)  # a refused try does not restart the window
    assert "Please wait 10 seconds" in client.post(NEW, form_data()).content.decode()
    assert Pledge.objects.count() == 5


def test_invalid_submissions_do_not_count_toward_the_limit(client):  # SEC-19
    for _ in range(12):
        refused = client.post(NEW, form_data(amount="0"))
        assert refused.status_code == 200 and "amount" in refused.context["form"].errors
    assert client.post(NEW, form_data()).status_code == 302
    assert Pledge.objects.count() == 1
