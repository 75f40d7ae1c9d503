"""Roles as Django groups. Coordinators work in the admin with these model permissions."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

COORDINATORS = "Coordinators"
# The coordinators' permission: deciding matches and the back office's work pages (home, dashboard).
COORDINATOR_PERMISSION = "matching.change_match"
# Staff of a partner organization who record case requests through the web intake form; which
# organization they act for is their cases.PartnerMembership. No model permissions: the intake
# views scope every read and write to that organization.
PARTNER_INTAKE = "Partner intake"
# Holders of cases.view_identifiers: respondent names, A-numbers and contact routes in the admin.
# A separate group, so that a coordinator sees identifiers only when someone decided they should.
IDENTIFIER_VIEWERS = "Identifier viewers"

# (app_label, model, actions). Coordinators record cases, review attorneys, pledges and matches,
# and read the audit log; nobody edits the log, and runs are started through a service.
COORDINATOR_PERMISSIONS: list[tuple[str, str, tuple[str, ...]]] = [
    ("cases", "caserequest", ("view", "add", "change")),
    ("cases", "immigrationcourt", ("view", "add", "change")),
    ("cases", "language", ("view", "change")),
    ("cases", "casetype", ("view", "add", "change")),
    ("cases", "partnermembership", ("view", "add", "change", "delete")),
    ("volunteers", "organization", ("view", "add", "change")),
    ("volunteers", "attorneyprofile", ("view", "change")),
    ("volunteers", "baradmission", ("view", "change")),
    ("volunteers", "attorneylanguage", ("view",)),
    ("volunteers", "practicearea", ("view",)),
    ("pledges", "pledge", ("view", "change")),
    ("pledges", "organizationmanager", ("view", "change", "delete")),
    ("matching", "match", ("view", "change")),
    ("matching", "matchingrun", ("view",)),
    ("matching", "statusrequest", ("view",)),
    ("core", "domainevent", ("view",)),
    ("mentoring", "mentorship", ("view", "change")),
    ("mentoring", "mentoringprofile", ("view",)),
    ("mentoring", "caseshare", ("view",)),
    ("interpreters", "interpreterprofile", ("view", "change")),
    ("interpreters", "interpreterlanguage", ("view",)),
    ("interpreters", "teaminterpreter", ("view", "change")),
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


def partner_intake_group_sync() -> Group:
    group, _ = Group.objects.get_or_create(name=PARTNER_INTAKE)
    group.permissions.clear()
    return group


def identifier_viewers_group_sync() -> Group:
    group, _ = Group.objects.get_or_create(name=IDENTIFIER_VIEWERS)
    group.permissions.set(
        Permission.objects.filter(content_type__app_label="cases", codename="view_identifiers")
    )
    return group


def coordinator_emails() -> list[str]:
    """The addresses to tell when a coordinator must act: active staff coordinators with one."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name=COORDINATORS)
        .exclude(email="")
    )
    return sorted(set(users.values_list("email", flat=True)))


def staff_has_totp(user) -> bool:
    """Staff open the admin only with an authenticator (SEC-9; core.admin_site)."""
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
