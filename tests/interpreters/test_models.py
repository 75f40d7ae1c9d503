"""The interpreter invariants live in the database: these writes bypass the services on
purpose. Each was dropped from a test database in turn, and nothing else failed."""

import pytest
from django.db import IntegrityError, transaction

from interpreters.models import InterpreterLanguage, InterpreterProfile, TeamInterpreter
from tests.factories import MatchFactory
from tests.interpreters.people import interpreter_create

pytestmark = pytest.mark.django_db


def test_it_rejects_a_capacity_above_twenty():
    interpreter = interpreter_create()
    with pytest.raises(IntegrityError), transaction.atomic():
        InterpreterProfile.objects.filter(pk=interpreter.pk).update(capacity=21)


def test_it_rejects_a_second_profile_for_one_user():
    interpreter = interpreter_create()
    twin = InterpreterProfile.objects.get(pk=interpreter.pk)
    twin.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
    assert InterpreterProfile.objects.count() == 1


@pytest.mark.parametrize("proficiency", [0, 5])
def test_it_rejects_an_unknown_proficiency(proficiency):
    interpreter = interpreter_create()
    with pytest.raises(IntegrityError), transaction.atomic():
        interpreter.language_skills.update(proficiency=proficiency)


def test_it_rejects_a_language_twice_for_one_interpreter():
    interpreter = interpreter_create(skills=(("quc", 4), ("spa", 4)))
    with pytest.raises(IntegrityError), transaction.atomic():
        InterpreterLanguage.objects.create(
            interpreter=interpreter, language_id="spa", proficiency=2
        )
    assert interpreter.language_skills.count() == 2


def _team(match, interpreter, **fields):
    values = {"bridge_language_id": "spa", "score": 10} | fields
    return TeamInterpreter.objects.create(match=match, interpreter=interpreter, **values)


def test_it_rejects_a_second_live_interpreter_on_a_match():
    match = MatchFactory(status="accepted")
    _team(match, interpreter_create(), status=TeamInterpreter.Status.ACCEPTED)
    with pytest.raises(IntegrityError), transaction.atomic():
        _team(match, interpreter_create(first_name="Second"))
    assert match.team_interpreters.count() == 1


def test_it_allows_a_replacement_once_the_first_interpreter_declined():
    match = MatchFactory(status="accepted")
    _team(match, interpreter_create(), status=TeamInterpreter.Status.DECLINED)
    _team(match, interpreter_create(first_name="Second"))
    assert match.team_interpreters.count() == 2


def test_it_rejects_a_team_with_a_non_positive_score():
    with pytest.raises(IntegrityError), transaction.atomic():
        _team(MatchFactory(status="accepted"), interpreter_create(), score=0)
    assert not TeamInterpreter.objects.exists()
