"""Interpreter pages: joining, profile, dashboard, team offers in stages (SEC-15).

Objects come through selectors scoped to the signed-in interpreter (404 for anyone else,
SEC-12); writes through services; state changes POST-only (SEC-16).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.errors import DomainError
from core.services import event_record
from interpreters import selectors, services
from interpreters.forms import InterpreterForm
from volunteers.forms import LanguageFormSet, common_language_choices

SIGNUP_ROLE_KEY = "signup_role"


@require_safe
def join(request):
    """The interpreters' way in: after signing up (allauth) they land on their own profile."""
    request.session[SIGNUP_ROLE_KEY] = "interpreter"
    return render(request, "interpreters/join.html",
                  {"next": reverse("interpreters:profile")})  # fmt: skip


@require_safe
@login_required
def dashboard(request):
    interpreter = selectors.interpreter_for_user(user=request.user)
    if interpreter is None:
        return redirect("interpreters:profile")
    context = {"dashboard": selectors.interpreter_dashboard(interpreter=interpreter)}
    return render(request, "interpreters/dashboard.html", context)


def _initial(interpreter, user):
    if interpreter is None:
        return {"first_name": user.first_name, "last_name": user.last_name}, []
    fields = ("phone", "home_zip", "travel_radius_miles", "remote_ok", "capacity")
    initial = {name: getattr(interpreter, name) for name in fields}
    initial |= {"first_name": user.first_name, "last_name": user.last_name}
    skills = [{"language": s.language_id, "proficiency": s.proficiency}
              for s in interpreter.language_skills.all()]  # fmt: skip
    return initial, skills


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def profile(request):
    interpreter = selectors.interpreter_for_user(user=request.user)
    initial, skills = _initial(interpreter, request.user)
    data = request.POST if request.method == "POST" else None
    form = InterpreterForm(data, initial=initial)
    languages = LanguageFormSet(data, initial=skills, prefix="lang",
                                form_kwargs={"common": common_language_choices()})  # fmt: skip
    if request.method == "POST" and form.is_valid() and languages.is_valid():
        rows = [(row["language"].code, row["proficiency"]) for row in languages.rows()]
        try:
            services.interpreter_profile_save(user=request.user, skills=rows, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Saved. A coordinator verifies new interpreters.")
            return redirect("interpreters:dashboard")
    context = {"form": form, "languages": languages, "interpreter": interpreter}
    return render(request, "interpreters/profile.html", context)


@require_safe
@login_required
def offer(request, assignment_id):
    """Stage 1: the summary, no identifier; or, once accepted, what the team waits for."""
    assignment = selectors.assignment_seen_get(user=request.user, assignment_id=assignment_id)
    if assignment.status == "accepted" and assignment.match.status == "accepted":
        return redirect("interpreters:case", assignment_id=assignment.pk)
    context = {"offer": selectors.team_offer(assignment=assignment)}
    return render(request, "interpreters/offer.html", context)


@require_safe
@login_required
def offer_parties(request, assignment_id):
    """Stage 2: the party names, for the interpreter's conflict check."""
    assignment = selectors.assignment_offer_get(user=request.user, assignment_id=assignment_id)
    event_record(verb="interpreter.parties_viewed", actor=request.user, target=assignment)
    context = {"assignment_id": assignment.pk,
               "parties": selectors.team_parties(assignment=assignment)}  # fmt: skip
    return render(request, "interpreters/offer_parties.html", context)


def _act(request, assignment_id, action, success):
    assignment = selectors.assignment_offer_get(user=request.user, assignment_id=assignment_id)
    try:
        action(assignment)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return assignment


@require_POST
@login_required
def offer_attest(request, assignment_id):
    _act(request, assignment_id,
         lambda a: services.team_attest_no_conflict(assignment=a, user=request.user),
         "Thank you. You can now accept.")  # fmt: skip
    return redirect("interpreters:offer", assignment_id=assignment_id)


@require_POST
@login_required
def offer_accept(request, assignment_id):
    _act(request, assignment_id, lambda a: services.team_accept(assignment=a, user=request.user),
         "Accepted. The attorney can now accept too; the record opens once they have.")  # fmt: skip
    return redirect("interpreters:offer", assignment_id=assignment_id)


@require_POST
@login_required
def offer_decline(request, assignment_id):
    _act(request, assignment_id, lambda a: services.team_decline(assignment=a, user=request.user),
         "Declined. Thank you for answering.")  # fmt: skip
    return redirect("interpreters:dashboard")


@require_safe
@login_required
def case(request, assignment_id):
    """Stage 3: the full record, once both the interpreter and the attorney accepted."""
    assignment = selectors.assignment_case_get(user=request.user, assignment_id=assignment_id)
    event_record(verb="case.viewed", actor=request.user, target=assignment.match.case)
    context = {"record": selectors.team_record(assignment=assignment)}
    return render(request, "interpreters/case.html", context)
