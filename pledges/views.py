"""Public pledge pages: the form, the signed confirm/manage links, the wall and open data.

No account is needed. A pledge is reached only through a signed, timestamped link that carries
its id alone (no personal data in URLs, SEC-23); state changes are POST-only (SEC-16). Every page
that shows or takes back a contact's name, email or phone is `never_cache` (Cache-Control:
no-store, issue 11 #11): a shared or back-button cache must not keep them.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.ratelimit import rate_limit_consume
from pledges import selectors, services
from pledges.charts import wall_progress_chart
from pledges.forms import ConfirmForm, PledgeForm, pledge_initial
from pledges.services import PledgeError
from volunteers.services import INVITE_SESSION_KEY, attorney_affiliation_decide


def _rate_limit_wait(request) -> int:
    """Count one valid submission from the client's address (client_ip, through the trusted
    proxies); the seconds to wait when it is over the limit, else 0 (SEC-19). A fixed window
    from the first submission: refused tries do not prolong it (core.ratelimit)."""
    rates = f"{settings.PLEDGE_RATE_LIMIT_PER_MINUTE}/m/ip"
    return rate_limit_consume(request, action="pledge", rates=rates).retry_after


def _limited(request, form, wait: int):
    """The form again, with everything typed, and how long to wait."""
    form.add_error(
        None,
        f"Too many pledges were sent from your address in the last minute. Please wait "
        f"{wait} second{pluralize(wait)} and send it again: what you typed is kept below.",
    )
    return render(request, "pledges/form.html", {"form": form, "wait": wait}, status=429)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache  # a refused POST shows the contact data typed
def pledge_new(request):
    form = PledgeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_spam:  # looks like success to the bot; nothing is written
            return redirect("pledges:thanks")
        if form.is_valid():  # an invalid submission is not counted against the limit
            if wait := _rate_limit_wait(request):
                return _limited(request, form, wait)
            try:
                services.pledge_submit(data=form.data_object())
            except PledgeError as error:
                form.add_domain_error(error)
            else:
                return redirect("pledges:thanks")
    context = {"form": form, **_blank_form_cache(form)}
    return render(request, "pledges/form.html", context)


def _blank_form_cache(form) -> dict:
    """How the template may cache the blank form: it is the same for every visitor on a given
    day (its dates start today), and rendering its ~300 tick boxes (courts, languages, kinds of
    case) is most of the page's cost (REL-7). A form with anything typed is never cached; a
    court or language added by a coordinator shows once the fragment expires."""
    start = form.initial.get("period_start")
    if form.is_bound or start is None:
        return {}
    return {
        "blank_form_seconds": settings.PLEDGE_FORM_CACHE_SECONDS,
        "blank_form_day": start.isoformat(),
    }


@require_safe
def pledge_thanks(request):
    return render(request, "pledges/thanks.html")


def _from_token(token, salt, max_age):
    try:
        return services.pledge_from_token(token=token, salt=salt, max_age=max_age), None
    except PledgeError as error:
        return None, error


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def pledge_confirm(request, token):
    pledge, error = _from_token(token, services.CONFIRM_SALT, services.CONFIRM_MAX_AGE)
    if error is not None:
        return render(request, "pledges/link_invalid.html", {"error": error}, status=404)
    if request.method == "POST":
        pledge = services.pledge_confirm(pledge=pledge)
        manage = services.pledge_token(pledge=pledge, salt=services.MANAGE_SALT)
        return redirect("pledges:manage", token=manage)
    return render(request, "pledges/confirm.html", {"pledge": pledge, "form": ConfirmForm()})


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache  # the contact's name, email and phone
def pledge_manage(request, token):
    pledge, error = _from_token(token, services.MANAGE_SALT, services.MANAGE_MAX_AGE)
    if error is not None:
        return render(request, "pledges/link_invalid.html", {"error": error}, status=404)
    live = pledge.status in pledge.LIVE_STATUSES
    data = request.POST if request.method == "POST" and live else None
    form = PledgeForm(data, initial=pledge_initial(pledge), editing=True)
    if data is not None and form.is_valid():
        try:
            pledge = services.pledge_update(pledge=pledge, data=form.data_object())
        except PledgeError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, "Your changes are saved.")
            return redirect("pledges:manage", token=token)
    context = {"pledge": pledge, "form": form, "live": live, "token": token}
    return render(request, "pledges/manage.html", context)


@require_POST
@never_cache
def pledge_withdraw(request, token):
    pledge, error = _from_token(token, services.MANAGE_SALT, services.MANAGE_MAX_AGE)
    if error is not None:
        return render(request, "pledges/link_invalid.html", {"error": error}, status=404)
    services.pledge_withdraw(pledge=pledge)
    messages.success(request, "Your pledge is withdrawn. Thank you for considering it.")
    return redirect("pledges:manage", token=token)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def pledge_manager_claim(request, token):
    """From the signed manage link, the pledge's contact claims a manager account for the
    organization. Signed out: sent to sign in (or sign up) and brought back here."""
    pledge, error = _from_token(token, services.MANAGE_SALT, services.MANAGE_MAX_AGE)
    if error is not None:
        return render(request, "pledges/link_invalid.html", {"error": error}, status=404)
    if not request.user.is_authenticated:
        here = reverse("pledges:manage_claim", args=[token])
        return redirect(f"{reverse('account_login')}?{urlencode({'next': here})}")
    if request.method == "POST":
        try:
            manager, _ = services.organization_manager_claim(pledge=pledge, user=request.user)
        except PledgeError as error:
            messages.error(request, error.message)
            return redirect("pledges:manage", token=token)
        name = pledge.organization.name
        if manager.approved_at is None:
            messages.info(
                request,
                f"{name} is already on Pro Bono Match: your request to manage it waits for its "
                "manager or a coordinator to approve it.",
            )
            return redirect("pledges:manage", token=token)
        messages.success(request, f"You now manage {name} on Pro Bono Match.")
        return redirect("pledges:organization")
    context = {"pledge": pledge, "form": ConfirmForm(), "token": token}
    return render(request, "pledges/claim.html", context)


@require_safe
@login_required
@never_cache
def pledge_organization(request):
    """The manager's page: the organization's pledges, their progress and the invite link."""
    managed = selectors.organizations_managed(user=request.user)
    if not managed:
        raise Http404
    invites = {
        m.organization.pk: request.build_absolute_uri(
            reverse(
                "pledges:join",
                args=[services.organization_invite_token(organization=m.organization)],
            )
        )
        for m in managed
    }
    context = {"managed": [(m, invites[m.organization.pk]) for m in managed]}
    return render(request, "pledges/organization.html", context)


def _decision(request) -> bool | None:
    """The manager's button: True to approve, False to decline; anything else (a missing or
    mangled field) is neither, and must not decline someone's request by default."""
    decision = request.POST.get("decision")
    if decision not in ("approve", "decline"):
        messages.error(request, "Choose to approve or to decline the request.")
        return None
    return decision == "approve"


@require_POST
@login_required
def pledge_manager_decide(request, manager_id):
    """A manager approves or declines someone's claim to manage their organization."""
    manager = selectors.manager_request_get_for_manager(user=request.user, manager_id=manager_id)
    approve = _decision(request)
    if approve is None:
        return redirect("pledges:organization")
    if approve:
        services.organization_manager_approve(manager=manager, actor=request.user)
        messages.success(request, f"{manager.user.email} now manages {manager.organization}.")
    else:
        services.organization_manager_remove(manager=manager, actor=request.user)
        messages.info(request, "The request to manage the organization is declined.")
    return redirect("pledges:organization")


@require_POST
@login_required
def pledge_attorney_decide(request, attorney_id):
    """A manager approves or declines an attorney's request to join their organization."""
    attorney = selectors.attorney_request_get_for_manager(
        user=request.user, attorney_id=attorney_id
    )
    approve = _decision(request)
    if approve is None:
        return redirect("pledges:organization")
    attorney_affiliation_decide(attorney=attorney, actor=request.user, approve=approve)
    messages.success(request, "The attorney joins the organization." if approve else
                     "The attorney's request is declined.")  # fmt: skip
    return redirect("pledges:organization")


@require_safe
def pledge_join(request, token):
    """An attorney's invitation: remember the organization for the profile, then sign up."""
    try:
        organization = services.organization_from_invite_token(token=token)
    except PledgeError as error:
        return render(request, "pledges/link_invalid.html", {"error": error}, status=404)
    request.session[INVITE_SESSION_KEY] = organization.pk
    return redirect("account_signup")


@require_safe
def pledge_wall(request):
    page, entries = selectors.pledge_wall(page=request.GET.get("page", 1))
    totals = selectors.wall_totals()
    chart = wall_progress_chart(totals.by_kind)
    context = {
        "page": page,
        "entries": entries,
        "totals": totals,
        "chart": chart,
        "outcomes": selectors.outcome_table(),
    }
    return render(request, "pledges/wall.html", context)


@require_safe
@cache_control(public=True, max_age=300)
def pledge_totals_json(request):
    """Open data for partners' websites: the public totals, nothing about any person; case
    outcomes as counts with small cells suppressed (pledges/suppression.py)."""
    payload = selectors.wall_totals().as_dict() | {"outcomes": selectors.outcome_table().as_dict()}
    response = JsonResponse(payload)
    response["Access-Control-Allow-Origin"] = "*"
    return response
