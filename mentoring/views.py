"""Mentoring pages for attorneys: preferences, the mentor's offers, shared cases in stages.

Every object comes through a selector scoped to the signed-in attorney (404 for anyone else,
SEC-12); every write goes through a service; state changes are POST-only (SEC-16).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.errors import DomainError
from core.services import event_record
from mentoring import selectors, services
from mentoring.forms import PreferencesForm
from volunteers.selectors import attorney_for_user


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def preferences(request):
    attorney = attorney_for_user(user=request.user)
    if attorney is None:
        return redirect("volunteers:profile_step", step="about")
    profile = services.mentoring_profile_for(attorney=attorney)
    can_mentor = services.mentor_eligible(attorney=attorney)
    initial = {
        "wants_mentor": profile.wants_mentor,
        "request_note": profile.request_note,
        "mentee_capacity": profile.mentee_capacity,
    }
    data = request.POST if request.method == "POST" else None
    form = PreferencesForm(data, initial=initial, can_mentor=can_mentor)
    if request.method == "POST" and form.is_valid():
        try:
            services.mentoring_preferences_set(
                attorney=attorney,
                wants_mentor=form.cleaned_data["wants_mentor"],
                request_note=form.cleaned_data["request_note"],
                mentee_capacity=form.cleaned_data.get("mentee_capacity", 0),
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Saved. A coordinator reviews each pairing we propose.")
            return redirect("volunteers:dashboard")
    context = {
        "form": form,
        "profile": profile,
        "can_mentor": can_mentor,
        "min_years": services.MENTOR_MIN_YEARS,
        "min_cases": services.MENTOR_MIN_CASES,
    }
    return render(request, "mentoring/preferences.html", context)


@require_safe
@login_required
def offer(request, mentorship_id):
    mentorship = selectors.mentorship_offer_get_for_mentor(
        user=request.user, mentorship_id=mentorship_id
    )
    context = {
        "mentorship": mentorship,
        "reasons": selectors.mentorship_reasons(mentorship=mentorship),
    }
    return render(request, "mentoring/offer.html", context)


def _act(request, action, success: str) -> bool:
    try:
        action()
    except DomainError as error:
        messages.error(request, error.message)
        return False
    messages.success(request, success)
    return True


@require_POST
@login_required
def offer_accept(request, mentorship_id):
    mentorship = selectors.mentorship_offer_get_for_mentor(
        user=request.user, mentorship_id=mentorship_id
    )
    _act(request, lambda: services.mentorship_accept(mentorship=mentorship, user=request.user),
         "Thank you for mentoring. Cases your mentee shares appear on your dashboard.")  # fmt: skip
    return redirect("volunteers:dashboard")


@require_POST
@login_required
def offer_decline(request, mentorship_id):
    mentorship = selectors.mentorship_offer_get_for_mentor(
        user=request.user, mentorship_id=mentorship_id
    )
    _act(request, lambda: services.mentorship_decline(mentorship=mentorship, user=request.user),
         "Declined. We will look for another mentor.")  # fmt: skip
    return redirect("volunteers:dashboard")


@require_POST
@login_required
def end(request, mentorship_id):
    mentorship = selectors.mentorship_get_for_party(user=request.user, mentorship_id=mentorship_id)
    _act(request, lambda: services.mentorship_end(mentorship=mentorship, user=request.user),
         "The mentorship has ended. Thank you both.")  # fmt: skip
    return redirect("volunteers:dashboard")


@require_POST
@login_required
def share(request, match_id):
    """The mentee shares one of their accepted cases with their mentor."""
    match = selectors.match_get_for_mentee(user=request.user, match_id=match_id)
    _act(request, lambda: services.case_share(match=match, user=request.user),
         "Shared. Your mentor sees the case after their own conflict check.")  # fmt: skip
    return redirect("volunteers:dashboard")


@require_safe
@login_required
def shared(request, share_id):
    """Stage 1: the summary of a case a mentee shared; no identifier (SEC-15)."""
    share = selectors.share_get_for_mentor(user=request.user, share_id=share_id)
    context = {"shared": selectors.shared_summary(share=share)}
    return render(request, "mentoring/shared.html", context)


@require_safe
@login_required
def shared_parties(request, share_id):
    """Stage 2: the party names, for the mentor's conflict check."""
    share = selectors.share_get_for_mentor(user=request.user, share_id=share_id)
    event_record(verb="mentorship.parties_viewed", actor=request.user, target=share)  # SEC-24
    context = {"parties": selectors.shared_parties(share=share)}
    return render(request, "mentoring/shared_parties.html", context)


@require_POST
@login_required
def shared_attest(request, share_id):
    share = selectors.share_get_for_mentor(user=request.user, share_id=share_id)
    done = _act(request, lambda: services.case_share_attest(share=share, user=request.user),
                "Thank you. The full record is below.")  # fmt: skip
    if done:
        return redirect("mentoring:shared_record", share_id=share.pk)
    return redirect("mentoring:shared", share_id=share.pk)


@require_safe
@login_required
def shared_record(request, share_id):
    """Stage 3: the full record, to the mentor who attested (404 before: SEC-15)."""
    share = selectors.share_attested_get_for_mentor(user=request.user, share_id=share_id)
    event_record(verb="case.viewed", actor=request.user, target=share.match.case)  # SEC-24
    context = {"record": selectors.shared_record(share=share)}
    return render(request, "mentoring/shared_record.html", context)
