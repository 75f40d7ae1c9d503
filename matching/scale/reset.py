"""Deleting the scale rows, with the matches and runs that ``--matches`` made."""

from django.contrib.auth import get_user_model
from django.db import connection, models, transaction

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
        for table, column in _rows_pointing_at(Match)
    ]
    statements += [
        (f"DELETE FROM {match} WHERE case_id IN ({scale_cases})", [summary]),  # noqa: S608
        # The cases' other languages (M2M rows; the database does not cascade them).
        (f"DELETE FROM {spoken} WHERE caserequest_id IN ({scale_cases})", [summary]),  # noqa: S608
        (f"DELETE FROM {match} WHERE attorney_id IN ({scale_attorneys})", [email]),  # noqa: S608
        (f"DELETE FROM {case} WHERE summary LIKE %s", [summary]),  # noqa: S608
    ]
    for table, column in _rows_pointing_at(AttorneyProfile, after=Match):
        sql = f"DELETE FROM {table} WHERE {column} IN ({scale_attorneys})"  # noqa: S608
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


def _rows_pointing_at(
    model: type[models.Model], *, after: type[models.Model] | None = None
) -> list[tuple[str, str]]:
    """(table, column) of every row that points at `model`: each foreign key (a model with two,
    like a mentorship's mentor and mentee, appears once per key) and each many-to-many table
    Django made for one of `model`'s fields (an attorney's preferred and excluded case types).
    `after`: a model whose rows were deleted already (an attorney's matches)."""
    keys = [
        (rel.related_model._meta.db_table, str(rel.field.column))
        for rel in model._meta.related_objects
        if (rel.one_to_many or rel.one_to_one) and rel.related_model is not after
    ]
    links = []
    for field in model._meta.many_to_many:
        through = field.remote_field.through
        if through is not None and through._meta.auto_created:
            links.append((through._meta.db_table, field.m2m_column_name()))
    return keys + links
