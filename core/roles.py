"""Roles as Django groups. Coordinators work in the admin with these model permissions."""

from django.contrib.auth.models import Group, Permission

COORDINATORS = "Coordinators"

# (app_label, model, actions). Coordinators record cases, review attorneys, pledges and matches,
# and read the audit log; nobody edits the log, and runs are started through a service.
COORDINATOR_PERMISSIONS: list[tuple[str, str, tuple[str, ...]]] = [
    ("cases", "caserequest", ("view", "add", "change")),
    ("cases", "immigrationcourt", ("view", "add", "change")),
    ("cases", "language", ("view", "change")),
    ("cases", "casetype", ("view", "add", "change")),
    ("volunteers", "organization", ("view", "add", "change")),
    ("volunteers", "attorneyprofile", ("view", "change")),
    ("volunteers", "baradmission", ("view", "change")),
    ("volunteers", "attorneylanguage", ("view",)),
    ("volunteers", "practicearea", ("view",)),
    ("volunteers", "pledge", ("view", "change")),
    ("matching", "match", ("view", "change")),
    ("matching", "matchingrun", ("view",)),
    ("core", "domainevent", ("view",)),
]


def coordinator_group_sync() -> Group:
    """Create the Coordinators group and set exactly its permissions (idempotent)."""
    group, _ = Group.objects.get_or_create(name=COORDINATORS)
    wanted = [
        (app_label, f"{action}_{model}")
        for app_label, model, actions in COORDINATOR_PERMISSIONS
        for action in actions
    ]
    permissions = Permission.objects.filter(content_type__app_label__in={a for a, _ in wanted})
    group.permissions.set(
        [p for p in permissions if (p.content_type.app_label, p.codename) in wanted]
    )
    return group
