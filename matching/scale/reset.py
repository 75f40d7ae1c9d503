"""Deleting the scale rows, with the matches and runs that ``--matches`` made."""

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from cases.models import CaseRequest
from matching.models import Match, MatchingRun
from matching.scale.common import RUN_TRIGGER, SCALE_DOMAIN, SCALE_SUMMARY
from volunteers.models import AttorneyProfile


def scale_reset() -> int:
    """Delete scale rows with plain SQL: Django's delete() would collect millions of objects."""
    user = get_user_model()._meta.db_table
    profile, case = AttorneyProfile._meta.db_table, CaseRequest._meta.db_table
    scale_users = f"SELECT id FROM {user} WHERE email LIKE %s"  # noqa: S608 (constants only)
    scale_attorneys = f"SELECT id FROM {profile} WHERE user_id IN ({scale_users})"  # noqa: S608
    scale_cases = f"SELECT id FROM {case} WHERE summary LIKE %s"  # noqa: S608
    email, summary = f"%@{SCALE_DOMAIN}", f"{SCALE_SUMMARY}%"
    # Table names come from model metadata, values are parameters.
    match = Match._meta.db_table
    spoken = CaseRequest.other_languages.through._meta.db_table
    scale_matches = (
        f"SELECT id FROM {match} WHERE case_id IN ({scale_cases})"  # noqa: S608
        f" OR attorney_id IN ({scale_attorneys})"
    )
    # Rows that point at those matches (hours, a mentor's case shares, a team's interpreter).
    statements = [
        (f"DELETE FROM {table} WHERE {column} IN ({scale_matches})", [summary, email])  # noqa: S608
        for table, column in _match_children()
    ]
    statements += [
        (f"DELETE FROM {match} WHERE case_id IN ({scale_cases})", [summary]),  # noqa: S608
        # The cases' other languages (M2M rows; the database does not cascade them).
        (f"DELETE FROM {spoken} WHERE caserequest_id IN ({scale_cases})", [summary]),  # noqa: S608
        (f"DELETE FROM {match} WHERE attorney_id IN ({scale_attorneys})", [email]),  # noqa: S608
        (f"DELETE FROM {case} WHERE summary LIKE %s", [summary]),  # noqa: S608
    ]
    for table, column in _attorney_children():
        sql = f"DELETE FROM {table} WHERE {column} IN ({scale_attorneys})"  # noqa: S608
        statements.append((sql, [email]))
    for relation in (AttorneyProfile.preferred_types, AttorneyProfile.excluded_types):
        table = relation.through._meta.db_table
        sql = f"DELETE FROM {table} WHERE attorneyprofile_id IN ({scale_attorneys})"  # noqa: S608
        statements.append((sql, [email]))
    statements += [
        (f"DELETE FROM {profile} WHERE user_id IN ({scale_users})", [email]),  # noqa: S608
        (f"DELETE FROM {user} WHERE email LIKE %s", [email]),  # noqa: S608
        (f"DELETE FROM {MatchingRun._meta.db_table} WHERE trigger = %s", [RUN_TRIGGER]),  # noqa: S608
    ]
    deleted = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            deleted += max(cursor.rowcount, 0)
    return deleted


def _attorney_children() -> list[tuple[str, str]]:
    """(table, column) of every foreign key to AttorneyProfile except matches' (deleted first);
    a model with two such keys (a mentorship's mentor and mentee) appears once per key."""
    return [
        (rel.related_model._meta.db_table, str(rel.field.column))
        for rel in AttorneyProfile._meta.related_objects
        if (rel.one_to_many or rel.one_to_one) and rel.related_model._meta.label != "matching.Match"
    ]


def _match_children() -> list[tuple[str, str]]:
    """(table, column) of every foreign key to Match."""
    return [
        (rel.related_model._meta.db_table, str(rel.field.column))
        for rel in Match._meta.related_objects
        if rel.one_to_many or rel.one_to_one
    ]
