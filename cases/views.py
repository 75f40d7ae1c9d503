"""Partner intake pages: staff of a partner organization record and edit its case requests.

Every page is scoped to the user's own organization through the selectors; anything else is a
404, never a 403 (SEC-12). URLs carry the public reference only, never personal data (SEC-23).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cases.forms import AGAIN, PartnerCaseRequestForm, add_service_errors
from cases.identifiers import format_a_number, is_canonical_a_number
from cases.models import CaseRequest
from cases.selectors import (
    case_request_get_for_partner,
    case_requests_for_partner,
    partner_membership_get,
)
from cases.services import (
    case_request_edit_by_partner,
    case_request_identifiers_viewed,
    case_request_submit_by_partner,
)
from cases.validation import CaseRequestInvalid
from core.forms import SUBMISSION_FIELD
from core.types import AuthenticatedHttpRequest


@login_required
@require_http_methods(["GET"])
def intake_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    membership = partner_membership_get(user=request.user)
    cases = case_requests_for_partner(user=request.user).defer(
        "respondent_name", "a_number", "contact_route"
    )
    page = Paginator(cases.order_by("-created_at"), 50).get_page(request.GET.get("page"))
    return render(
        request, "cases/partner_list.html", {"organization": membership.organization, "page": page}
    )


@login_required
@require_http_methods(["GET", "POST"])
def intake_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    membership = partner_membership_get(user=request.user)
    form = PartnerCaseRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            # A duplicate of another organization's case is held for review, unsaid (#5).
            case, created = case_request_submit_by_partner(
                data=form.service_data(),
                created_by=request.user,
                organization=membership.organization,
                submission_token=form.cleaned_data[SUBMISSION_FIELD],
                again=form.cleaned_data[AGAIN],
            )
        except CaseRequestInvalid as error:
            add_service_errors(form, error)
        else:
            _recorded_message(request, case, created)
            return redirect("cases:detail", reference=case.reference)
    return render(request, "cases/partner_form.html", {"form": form, "case": None})


def _recorded_message(request: AuthenticatedHttpRequest, case: CaseRequest, created: bool) -> None:
    if created:
        messages.success(request, f"Case request {case.reference} recorded.")
    else:  # the same submission again (a double click, a resend): nothing recorded twice
        messages.info(
            request,
            f"We already received this case request: it is recorded once, as {case.reference}.",
        )


@login_required
@require_http_methods(["GET"])
def intake_detail(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    case = case_request_get_for_partner(user=request.user, reference=reference)
    case_request_identifiers_viewed(case_request=case, viewer=request.user, where="partner")
    a_number = format_a_number(case.a_number) if is_canonical_a_number(case.a_number) else ""
    return render(request, "cases/partner_detail.html", {"case": case, "a_number": a_number})


@login_required
@require_http_methods(["GET", "POST"])
def intake_edit(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    case = case_request_get_for_partner(user=request.user, reference=reference)
    form = PartnerCaseRequestForm(request.POST if request.method == "POST" else None, instance=case)
    if request.method == "POST" and form.is_valid():
        try:
            data = form.service_data()
            case_request_edit_by_partner(case_request=case, data=data, updated_by=request.user)
        except CaseRequestInvalid as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Case request {case.reference} saved.")
            return redirect("cases:detail", reference=case.reference)
    else:
        case_request_identifiers_viewed(case_request=case, viewer=request.user, where="partner")
    return render(request, "cases/partner_form.html", {"form": form, "case": case})
