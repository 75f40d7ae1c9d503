import pytest
from django.db import DatabaseError, connection, transaction

from core.models import AppendOnlyError, DomainEvent
from core.services import event_record
from tests.factories import CaseRequestFactory

pytestmark = pytest.mark.django_db


def test_event_record_names_actor_verb_and_target(coord):
    case = CaseRequestFactory()
    event = event_record(verb="case.viewed", actor=coord, target=case, data={"field": "summary"})
    event.refresh_from_db()
    assert (event.actor, event.actor_label, event.verb) == (coord, coord.username, "case.viewed")
    assert event.target_id == str(case.pk)
    assert event.target_type.model == "caserequest"


def test_events_cannot_be_changed_or_deleted_through_the_orm(coord):
    event = event_record(verb="case.viewed", actor=coord)
    event.verb = "case.edited"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        DomainEvent.objects.filter(pk=event.pk).update(verb="x")
    with pytest.raises(AppendOnlyError):
        DomainEvent.objects.all().delete()
    assert DomainEvent.objects.get(pk=event.pk).verb == "case.viewed"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL-only")
def test_events_cannot_be_changed_even_with_raw_sql(coord):
    event = event_record(verb="case.viewed", actor=coord)
    for sql in ("UPDATE core_domainevent SET verb = 'x'", "DELETE FROM core_domainevent"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert DomainEvent.objects.get(pk=event.pk).verb == "case.viewed"
