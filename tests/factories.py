from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from cases.models import CaseRequest
from matching.models import Match
from pledges.models import Pledge
from volunteers.models import AttorneyLanguage, AttorneyProfile, Organization, PracticeArea


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}@example.org")
    email = factory.SelfAttribute("username")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    password = factory.django.Password("correct horse battery staple")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Firm {n} LLP")
    kind = Organization.Kind.LAW_FIRM
    city = "New York"
    state = "NY"


class AttorneyFactory(factory.django.DjangoModelFactory):
    """A verified attorney in Manhattan who speaks Spanish fluently and takes asylum cases."""

    class Meta:
        model = AttorneyProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    verification = AttorneyProfile.Verification.VERIFIED
    home_zip = "10278"
    latitude = "40.71520"
    longitude = "-74.00380"
    travel_radius_miles = 50
    capacity = 2

    @factory.post_generation
    def languages(self, create, extracted, **kwargs):
        for code, level in (extracted or {"eng": 4, "spa": 3}).items():
            AttorneyLanguage.objects.create(attorney=self, language_id=code, proficiency=level)

    @factory.post_generation
    def practice_areas(self, create, extracted, **kwargs):
        for code in extracted or ["asylum"]:
            PracticeArea.objects.create(attorney=self, case_type_id=code, cases_handled=3)


class CaseRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseRequest

    language_id = "spa"
    court = factory.LazyFunction(lambda: _court("new-york-city"))
    case_type_id = "asylum"
    next_hearing_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=60))
    summary = "Respondent seeking asylum; next hearing in two months."
    respondent_name = factory.Sequence(lambda n: f"Respondent Sample{n}")
    # Canonical 9-digit A-numbers, unique per factory call; the keyed hash goes with them.
    a_number = factory.Sequence(lambda n: f"{200000000 + n:09d}")
    a_number_hash = factory.LazyAttribute(lambda o: _a_number_hash(o.a_number))


def _a_number_hash(canonical):
    from cases.crypto import a_number_hash

    return a_number_hash(canonical) if canonical else None


def _court(code):
    from cases.models import ImmigrationCourt

    return ImmigrationCourt.objects.get(code=code)


class MatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Match

    case = factory.SubFactory(CaseRequestFactory)
    attorney = factory.SubFactory(AttorneyFactory)
    score = 500
    breakdown = factory.LazyFunction(lambda: {"language": 300, "priority": 200})


class PledgeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pledge

    organization = factory.SubFactory(OrganizationFactory)
    contact_name = "Pat Partner"
    contact_email = factory.Sequence(lambda n: f"pledge{n}@example.org")
    kind = Pledge.Kind.HOURS
    amount = 500
    period_start = factory.LazyFunction(lambda: timezone.localdate().replace(month=1, day=1))
    period_end = factory.LazyAttribute(
        lambda o: o.period_start.replace(year=o.period_start.year + 1)
    )
    status = Pledge.Status.APPROVED
    public = True
    organization_created = True  # the organization came with this pledge (its founder)


def affiliate(attorney, organization):
    """The attorney joins an existing organization: asks, and a coordinator approves."""
    from volunteers.services import attorney_affiliation_decide, attorney_organization_set

    attorney = attorney_organization_set(
        attorney=attorney, organization=organization, new_name="", eoir_id=""
    )
    if attorney.organization_requested_id:
        attorney_affiliation_decide(attorney=attorney, actor=None, approve=True)


def partner_user(*, organization, username="partner@example.org"):
    """Partner intake staff of `organization`: the role and the membership, set directly."""
    from cases.models import PartnerMembership
    from core.roles import partner_intake_group_sync

    user = UserFactory(username=username)
    user.groups.add(partner_intake_group_sync())
    PartnerMembership.objects.create(user=user, organization=organization)
    return user
