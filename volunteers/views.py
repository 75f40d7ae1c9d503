"""Attorney pages: dashboard, profile steps, offers (staged disclosure), cases, account.

Every object is fetched through a selector scoped to the signed-in attorney (404 for anyone
else, SEC-12); every write goes through a service; state changes are POST-only (SEC-16).
"""

from allauth.account.adapter import get_adapter
from allauth.account.views import ConfirmEmailView
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.errors import DomainError
from core.ratelimit import rate_limit_consume
from core.services import event_record
from interpreters.selectors import interpreter_for_user
from matching.board import Cursor, board_scope
from matching.checkins import StatusAnswer, status_request_answer
from matching.models import Match, StatusRequest
from matching.services import (
    match_accept,
    match_attest_no_conflict,
    match_decline,
    match_put_back,
    match_request_by_attorney,
    put_back_open,
)
from volunteers import digest, forms, selectors, services
from volunteers.adapters import email_confirmed_by_link, verification_email_resend
from volunteers.calendar import calendar_ics
from volunteers.models import CalendarFeed
from volunteers.services import Admission, AttorneyError
from volunteers.timezones import attorney_localdate, attorney_zone

# (slug, title) in the order the attorney walks them.
STEPS = [
    ("about", "About you"),
    ("organization", "Organization"),
    ("bar", "Bar admissions"),
    ("languages", "Languages"),
    ("practice", "Practice areas"),
    ("preferences", "Preferences"),
    ("capacity", "Capacity"),
]
_STEP_SLUGS = [slug for slug, _ in STEPS]


@require_safe
@login_required
def dashboard(request):
    attorney = selectors.attorney_for_user(user=request.user)
    if attorney is None and _is_interpreter(request):
        return redirect("interpreters:dashboard")
    if attorney is None:
        return redirect("volunteers:profile_step", step="about")
    progress = selectors.profile_progress(attorney=attorney)
    context = {
        "dashboard": selectors.attorney_dashboard(attorney=attorney),
        "progress": progress,
        "missing_steps": [(slug, title) for slug, title in STEPS if slug in progress.missing],
        "decline_form": forms.DeclineForm(),
        "zone": attorney_zone(attorney),
    }
    return render(request, "volunteers/dashboard.html", context)


def _is_interpreter(request) -> bool:
    """Interpreters sign in through the same pages and land here: send them to their own."""
    if request.session.get("signup_role") == "interpreter":
        return True
    return interpreter_for_user(user=request.user) is not None


@require_safe
@login_required
def profile(request):
    """Send the attorney to the first step still to do, or to the first one."""
    if selectors.attorney_for_user(user=request.user) is None and _is_interpreter(request):
        return redirect("interpreters:profile")
    progress = selectors.profile_progress(attorney=selectors.attorney_for_user(user=request.user))
    step = next((slug for slug in _STEP_SLUGS if not progress.done(slug)), "about")
    return redirect("volunteers:profile_step", step=step)


def _step_forms(step, request, attorney):
    """The form (or formset) for one step, bound on POST, with saved values as initial."""
    initial = forms.profile_initial(attorney, request.user).get(step)
    data = request.POST if request.method == "POST" else None
    if step == "about":
        return forms.AboutForm(data, initial=initial)
    if step == "organization":
        organizations = selectors.organizations_for_picking(attorney=attorney)
        return forms.OrganizationForm(data, initial=initial, organizations=organizations)
    if step == "bar":
        return forms.BarAdmissionFormSet(data, initial=initial, prefix="bar")
    if step == "languages":
        common = forms.common_language_choices()  # once, not once per row
        return forms.LanguageFormSet(
            data, initial=initial, prefix="lang", form_kwargs={"common": common}
        )
    if step == "practice":
        return forms.PracticeForm(data, initial=initial)
    if step == "preferences":
        return forms.PreferencesForm(data, initial=initial)
    return forms.CapacityForm(data, initial=initial, today=attorney_localdate(attorney))


def _step_save(step, form, user, attorney):
    data = form.cleaned_data if step not in ("bar", "languages") else None
    if step == "about":
        return services.attorney_profile_update(user=user, **data)
    if step == "organization":
        return services.attorney_organization_set(
            attorney=attorney,
            organization=data["organization"],
            new_name=data["new_organization"],
            eoir_id=data["eoir_id"],
        )
    if step == "bar":
        admissions = [
            Admission(row["jurisdiction"], row["bar_number"], row["status"]) for row in form.rows()
        ]
        return services.attorney_bar_admissions_set(attorney=attorney, admissions=admissions)
    if step == "languages":
        skills = [(row["language"].code, row["proficiency"]) for row in form.rows()]
        return services.attorney_languages_set(attorney=attorney, skills=skills)
    if step == "practice":
        return services.attorney_practice_areas_set(
            attorney=attorney, areas=form.areas(), years_experience=data["years_experience"]
        )
    if step == "preferences":
        return services.attorney_preferences_set(
            attorney=attorney,
            work_mode=data["work_mode"],
            preferred_types=[t.pk for t in data["preferred_types"]],
            excluded_types=[t.pk for t in data["excluded_types"]],
            detained_ok=data["detained_ok"],
            monthly_offer_cap=data["monthly_offer_cap"],
            digest_enabled=data["digest_enabled"],
        )
    return services.attorney_availability_set(
        attorney=attorney, capacity=data["capacity"], paused_until=data["paused_until"]
    )


def _form_error(form, error: AttorneyError) -> None:
    if isinstance(form, forms.StepForm):
        form.add_domain_error(error)
    else:  # a formset: show it above the rows
        form._non_form_errors = form.error_class([error.message])


_REQUESTED = (
    "Saved. You asked to join {}: its manager or a coordinator approves the request, and "
    "your work counts toward its pledges from then on."
)


def _invite_apply(request, attorney) -> None:
    """After the attorney's profile is saved: affiliate it with the inviting organization."""
    organization_id = request.session.pop(services.INVITE_SESSION_KEY, None)
    if organization_id is not None and attorney is not None:
        services.attorney_affiliate_by_invite(attorney=attorney, organization_id=organization_id)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def profile_step(request, step):
    if step not in _STEP_SLUGS:
        raise Http404
    attorney = selectors.attorney_for_user(user=request.user)
    if attorney is None and step != "about":
        return redirect("volunteers:profile_step", step="about")
    form = _step_forms(step, request, attorney)
    if request.method == "POST" and form.is_valid():
        try:
            saved = _step_save(step, form, request.user, attorney)
        except AttorneyError as error:
            _form_error(form, error)
        else:
            if step == "about":  # the profile exists now: an invitation affiliates it
                _invite_apply(request, saved)
            if step == "organization" and saved.organization_requested_id:
                messages.info(request, _REQUESTED.format(saved.organization_requested))
            else:
                messages.success(request, "Saved.")
            return redirect(_next_url(step))
    position = _STEP_SLUGS.index(step)
    context = {
        "step": step,
        "title": STEPS[position][1],
        "form": form,
        "steps": STEPS,
        "position": position + 1,
        "percent": round(100 * (position + 1) / len(STEPS)),
        "progress": selectors.profile_progress(attorney=attorney),
        "attorney": attorney,
        "previous": _STEP_SLUGS[position - 1] if position else None,
        "is_last": position == len(STEPS) - 1,
    }
    return render(request, f"volunteers/profile_{step}.html", context)


def _next_url(step: str) -> str:
    position = _STEP_SLUGS.index(step)
    if position + 1 < len(_STEP_SLUGS):
        return reverse("volunteers:profile_step", args=[_STEP_SLUGS[position + 1]])
    return reverse("volunteers:dashboard")


@require_safe
@login_required
def language_search(request):
    """Search over every ISO 639-3 language for the profile's language picker."""
    return JsonResponse({"results": selectors.language_search(query=request.GET.get("q", ""))})


@require_safe
@login_required
def offer(request, match_id):
    """The non-identifying summary: no name, no A-number (SEC-15). Once answered, the same link
    says what happened: an accepted case opens the case page, anything else its outcome."""
    match = selectors.offer_seen_get_for_attorney(user=request.user, match_id=match_id)
    outcome = selectors.offer_outcome(match=match, now=timezone.now())
    if outcome is not None and outcome.status == Match.Status.ACCEPTED:
        return redirect("volunteers:case", match_id=match.pk)
    if outcome is not None:
        context = {"outcome": outcome, "zone": attorney_zone(match.attorney)}
        return render(request, "volunteers/offer_answered.html", context)
    return _offer_page(request, match, forms.DeclineForm())


def _offer_page(request, match, decline_form):
    context = {
        "offer": selectors.offer_disclosure(match=match),
        "decline_form": decline_form,
        "zone": attorney_zone(match.attorney),  # the deadline in the attorney's own time zone
    }
    return render(request, "volunteers/offer.html", context)


@require_safe
@login_required
def offer_parties(request, match_id):
    """The party names, so the attorney can check for conflicts before attesting."""
    match = selectors.offer_get_for_attorney(user=request.user, match_id=match_id)
    event_record(verb="match.parties_viewed", actor=request.user, target=match)  # SEC-24
    context = {"parties": selectors.parties_disclosure(match=match)}
    return render(request, "volunteers/offer_parties.html", context)


def _match_action(request, match_id, action, success: str):
    match = selectors.offer_get_for_attorney(user=request.user, match_id=match_id)
    try:
        action(match)
    except DomainError as error:
        messages.error(request, error.message)
        return None
    messages.success(request, success)
    return match


@require_POST
@login_required
def offer_attest(request, match_id):
    match = _match_action(
        request, match_id,
        lambda m: match_attest_no_conflict(match=m, user=request.user),
        "Thank you. You can now accept the case.",
    )  # fmt: skip
    return redirect("volunteers:offer", match_id=match_id) if match else _back(request, match_id)


@require_POST
@login_required
def offer_accept(request, match_id):
    match = _match_action(
        request, match_id,
        lambda m: match_accept(match=m, user=request.user),
        "You accepted the case. The full record is below.",
    )  # fmt: skip
    return redirect("volunteers:case", match_id=match_id) if match else _back(request, match_id)


@require_POST
@login_required
def offer_decline(request, match_id):
    match = selectors.offer_get_for_attorney(user=request.user, match_id=match_id)
    form = forms.DeclineForm(request.POST)
    if not form.is_valid():
        return _offer_page(request, match, form)
    done = _match_action(
        request, match_id,
        lambda m: match_decline(
            match=m, user=request.user, reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        ),
        "Declined. The case goes back to the pool for another attorney.",
    )  # fmt: skip
    return redirect("volunteers:dashboard") if done else _back(request, match_id)


def _back(request, match_id):
    """After a refused action: the offer if it is still open, else the dashboard."""
    try:
        selectors.offer_get_for_attorney(user=request.user, match_id=match_id)
    except Http404:
        return redirect("volunteers:dashboard")
    return redirect("volunteers:offer", match_id=match_id)


@require_safe
@login_required
def case(request, match_id):
    """The full record, to the attorney who accepted only (SEC-15)."""
    return _case_page(request, match_id)


def _case_page(request, match_id, hours_form=None, put_back_form=None):
    match = selectors.case_get_for_attorney(user=request.user, match_id=match_id)
    event_record(verb="case.viewed", actor=request.user, target=match.case)  # SEC-24
    context = {
        "record": selectors.record_disclosure(match=match),
        "put_back_until": match.put_back_until,
        "put_back_open": put_back_open(match),
        "put_back_form": put_back_form or forms.PutBackForm(),
        "zone": attorney_zone(match.attorney),
        "status_pending": selectors.status_request_open_for_match(match=match),
    }
    context |= _case_hours_context(match=match, form=hours_form)
    return render(request, "volunteers/case.html", context)


@require_POST
@login_required
def case_put_back(request, match_id):
    """Hand an accepted case back before its put-back deadline; only its attorney (SEC-12)."""
    match = selectors.case_get_for_attorney(user=request.user, match_id=match_id)
    form = forms.PutBackForm(request.POST)
    if not form.is_valid():
        return _case_page(request, match_id, put_back_form=form)
    try:
        match_put_back(match=match, user=request.user, reason=form.cleaned_data["reason"])
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("volunteers:case", match_id=match.pk)
    messages.success(request, "You put the case back. It returns to the pool; thank you.")
    return redirect("volunteers:dashboard")


# The opportunity board (matching.board): open cases the matcher lets this attorney take.


@require_safe
@login_required
def opportunities(request):
    attorney = selectors.attorney_for_user(user=request.user)
    if attorney is None:
        return redirect("volunteers:profile_step", step="about")
    if attorney.verification != attorney.Verification.VERIFIED:  # no case data (SEC-11)
        return render(request, "volunteers/opportunities_closed.html", {"attorney": attorney})
    scope = board_scope(attorney=attorney)
    form = forms.OpportunityFilterForm(request.GET, scope=scope)
    after = None
    try:
        after = Cursor.decode(request.GET["after"]) if request.GET.get("after") else None
    except ValueError:  # a stale or edited link: the first page, said so (200, as a refused form)
        messages.error(request, "That page link is not valid; here is the first page.")
    page = None
    if form.is_valid():
        page = selectors.opportunity_page(
            attorney=attorney, scope=scope, filters=form.filters(), after=after
        )
    context = {"scope": scope, "form": form, "page": page, "attorney": attorney}
    if page is not None and page.next_cursor:
        query = request.GET.copy()
        query["after"] = page.next_cursor
        context["next_query"] = query.urlencode()
    return render(request, "volunteers/opportunities.html", context)


@require_POST
@login_required
def opportunity_request(request, reference):
    """Ask for a case from the board: a proposal flagged as the attorney's request."""
    attorney = selectors.attorney_for_user(user=request.user)
    if attorney is None or attorney.verification != attorney.Verification.VERIFIED:
        raise Http404("No such case.")
    case = selectors.opportunity_case_get(reference=reference)
    try:
        match = match_request_by_attorney(case=case, attorney=attorney)
    except DomainError as error:
        if error.code == "not_eligible":
            raise Http404("No such case.") from None
        messages.error(request, error.message)
        return redirect("volunteers:opportunities")
    if match.status == Match.Status.OFFERED:  # MATCHING_AUTO_APPROVE
        messages.success(request, "The case is offered to you: check for conflicts, then accept.")
        return redirect("volunteers:offer", match_id=match.pk)
    messages.success(
        request,
        f"You asked for case {case.reference}. A coordinator reviews the request; you will get "
        "an email when it is offered to you.",
    )
    return redirect("volunteers:opportunities")


def _case_hours_context(*, match, form=None) -> dict:
    """The hours part of the attorney's case page (a refused entry shows its errors)."""
    logged = list(match.hours.all()[:20])
    form = form or forms.CaseHoursForm(today=services.attorney_today(attorney=match.attorney))
    return {"hours_form": form, "hours_logged": logged,
            "hours_total": sum(entry.hours for entry in match.hours.all())}  # fmt: skip


@require_POST
@login_required
def case_hours(request, match_id):
    """Log hours on an accepted case; only its attorney (anyone else: 404, SEC-12)."""
    match = selectors.case_get_for_attorney(user=request.user, match_id=match_id)
    form = forms.CaseHoursForm(request.POST, today=services.attorney_today(attorney=match.attorney))
    if form.is_valid():
        try:
            entry, created = services.case_hours_log(
                match=match, user=request.user, **form.cleaned_data
            )
        except AttorneyError as error:
            form.add_domain_error(error)
        else:
            _hours_logged_message(request, entry, created)
            return redirect("volunteers:case", match_id=match.pk)
    return _case_page(request, match_id, hours_form=form)


def _hours_logged_message(request, entry, created: bool) -> None:
    if created:
        messages.success(request, "Hours logged. Thank you.")
    else:  # the same submission again (a double click, a resend): nothing logged twice
        messages.info(
            request,
            f"We already received these hours ({entry.hours} on {entry.worked_on:%-d %B %Y}); "
            "they are logged once.",
        )


# Status updates (issue 16): from the case page, or through the e-mailed link. Both need the
# attorney signed in as themselves: the form shows the case record's reference and dates, and
# the answer changes the case, so a forwarded or leaked link alone opens nothing.

# Which field a refused status update points at (matching.checkins / match_case_close codes).
_STATUS_ERROR_FIELDS = {
    "date_required": "outcome_date", "future_date": "outcome_date",
    "before_acceptance": "outcome_date", "outcome_required": "outcome",
    "relief_type_required": "relief_type", "note_required": "note", "note_too_long": "note",
    "hearing_date_past": "hearing_date", "hearing_date_far": "hearing_date",
    "filing_deadline_past": "filing_deadline", "filing_deadline_far": "filing_deadline",
}  # fmt: skip


@require_http_methods(["GET", "POST"])
@login_required
def case_status(request, match_id):
    """The status update form on the attorney's own accepted case (anyone else: 404)."""
    match = selectors.case_get_for_attorney(user=request.user, match_id=match_id)
    pending = selectors.status_request_open_for_match(match=match)
    return _status_form(request, match, pending=pending)


@require_http_methods(["GET", "POST"])
@login_required
def status_link(request, token):
    """The e-mailed link: its own attorney only (anyone else, or a made-up token: 404); an
    answered or expired request says so (410) and points to the case page."""
    status_request = selectors.status_request_get_for_attorney(user=request.user, token=token)
    match = status_request.match
    closed = (
        status_request.answered_at is not None
        or status_request.expires_at <= timezone.now()
        or match.status != Match.Status.ACCEPTED
    )
    if closed:
        context = {"status_request": status_request, "match": match}
        return render(request, "volunteers/status_link_closed.html", context, status=410)
    return _status_form(request, match, pending=status_request, via_link=status_request)


def _status_form(request, match, *, pending, via_link=None):
    today = attorney_localdate(match.attorney)
    accepted_on = timezone.localtime(
        match.responded_at or match.created_at, attorney_zone(match.attorney)
    ).date()
    form_kwargs = {"today": today, "accepted_on": accepted_on}
    if request.method != "POST":
        form = forms.StatusUpdateForm(**form_kwargs)
        return _status_page(request, match, form, pending)
    form = forms.StatusUpdateForm(request.POST, **form_kwargs)
    if form.is_valid():
        answer = StatusAnswer(**form.cleaned_data)
        try:
            status_request_answer(
                match=match, user=request.user, answer=answer, status_request=via_link
            )
        except DomainError as error:
            form.add_error(_STATUS_ERROR_FIELDS.get(error.code), error.message)
        else:
            return _status_done(request, match, answer.answer)
    return _status_page(request, match, form, pending)


def _status_page(request, match, form, pending):
    context = {
        "match": match,
        "case": match.case,
        "form": form,
        "pending": pending,
        "zone": attorney_zone(match.attorney),
    }
    return render(request, "volunteers/case_status.html", context)


def _status_done(request, match, answer):
    if answer == StatusRequest.Answer.CLOSED:
        messages.success(request, "Thank you. The case is closed and its outcome recorded.")
        return redirect("volunteers:dashboard")
    if answer == StatusRequest.Answer.CANNOT_CONTINUE:
        messages.success(request, "Thank you. The case goes back to matching with its history.")
        return redirect("volunteers:dashboard")
    messages.success(request, "Thank you. The case is up to date.")
    return redirect("volunteers:case", match_id=match.pk)


@require_safe
@login_required
def account(request):
    context = {"attorney": selectors.attorney_for_user(user=request.user)}
    return render(request, "volunteers/account.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def account_delete(request):
    form = forms.AccountDeleteForm(request.POST if request.method == "POST" else None)
    blocking = []
    if request.method == "POST" and form.is_valid():
        try:
            services.attorney_account_delete(user=request.user)
        except services.AccountDeleteBlocked as error:
            form.add_error(None, error.message)
            blocking = error.matches
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            logout(request)
            messages.info(request, "Your account is deleted. Thank you for your help.")
            return redirect("home")
    context = {"form": form, "blocking": blocking}
    return render(request, "volunteers/account_delete.html", context)


@require_safe
def calendar_feed(request, token):
    """The hearing calendar a calendar app subscribes to: no sign-in, the token is the key."""
    attorney = selectors.attorney_by_calendar_token(token=token)
    if attorney is None:
        raise Http404("No such calendar.")
    events = selectors.attorney_calendar_events(attorney=attorney)
    response = HttpResponse(
        calendar_ics(events, now=timezone.now()), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="pro-bono-match-hearings.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def calendar(request):
    """Create, replace or turn off the hearing calendar link; the new URL is shown once."""
    attorney = selectors.attorney_for_user(user=request.user)
    if attorney is None or attorney.verification != attorney.Verification.VERIFIED:
        raise Http404("No calendar before your bar admission is verified.")
    if request.method == "POST":
        _calendar_change(request, attorney, request.POST.get("action", ""))
        return redirect("volunteers:calendar")
    context = {
        "has_feed": CalendarFeed.objects.filter(attorney=attorney).exists(),
        "new_url": request.session.pop("calendar_url", None),
    }
    return render(request, "volunteers/calendar.html", context)


def _calendar_change(request, attorney, action: str) -> None:
    if action == "create":
        token = services.attorney_calendar_link_create(attorney=attorney, actor=request.user)
        path = reverse("volunteers:calendar_feed", args=[token])
        request.session["calendar_url"] = settings.SITE_URL.rstrip("/") + path
        messages.success(request, "Your calendar link is ready. Any earlier link no longer works.")
    elif action == "revoke":
        services.attorney_calendar_link_revoke(attorney=attorney, actor=request.user)
        messages.info(request, "Your calendar link is turned off; calendar apps stop updating.")
    else:
        messages.error(request, "Choose to create a new link or to turn the calendar off.")


@require_POST
def email_verification_resend(request):
    """The verification page's "send the link again" button: anyone may press it, a few times
    per IP (ACCOUNT_RATE_LIMITS "resend_verification"), and it says the same for any address."""
    form = forms.VerificationResendForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the email address you signed up with.")
    elif not rate_limit_consume(
        request,
        action="resend_verification",
        rates=settings.ACCOUNT_RATE_LIMITS["resend_verification"],
    ).allowed:
        messages.error(request, "Too many requests from here. Try again in ten minutes.")
    else:
        verification_email_resend(request, form.cleaned_data["email"])
        messages.info(
            request,
            "If that address is waiting for confirmation, a new link is on its way. One link "
            "per address every three minutes; check your spam folder too.",
        )
    return redirect("account_email_verification_sent")


class EmailConfirmView(ConfirmEmailView):
    """allauth's confirmation page, which says a link is expired or not valid once its address
    is confirmed (allauth refuses the key then): opened again, it says the address is confirmed
    and points to sign-in, or to the user's page when signed in."""

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        if not self.object and email_confirmed_by_link(self.kwargs["key"]):
            context["already_confirmed"] = True
            if self.request.user.is_authenticated:
                context["home_url"] = get_adapter(self.request).get_login_redirect_url(self.request)
        return context


email_confirm = EmailConfirmView.as_view()


@csrf_exempt  # RFC 8058: mail providers POST "List-Unsubscribe=One-Click" with no cookie or token
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def digest_unsubscribe(request, token):
    """The weekly digest's one-click unsubscribe: no sign-in, the signed token is the key. GET
    asks to confirm (a link scanner must not unsubscribe anyone), POST switches it off. The
    token only ever turns an e-mail off, so a forged request cannot do more than that."""
    pk = digest.unsubscribe_attorney_pk(token)
    attorney = selectors.attorney_for_digest_token(attorney_pk=pk) if pk is not None else None
    if attorney is None:
        raise Http404
    if request.method == "POST":
        services.attorney_digest_unsubscribe(attorney=attorney)
        return render(request, "volunteers/digest_unsubscribe.html", {"done": True})
    return render(request, "volunteers/digest_unsubscribe.html", {"done": False})
