import re
from functools import partial

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from cases import tasks
from cases.crypto import is_unreadable
from cases.forms import (
    AGAIN,
    CASE_FIELDS,
    CaseImportConfirmForm,
    CaseImportForm,
    CaseRequestAdminForm,
    PartnerMembershipAdminForm,
)
from cases.identifiers import looks_like_a_number
from cases.importing import (
    CaseImportRefused,
    case_import_confirm,
    case_import_token,
    case_import_upload,
    import_template,
)
from cases.models import (
    CaseImport,
    CaseRequest,
    CaseType,
    ImmigrationCourt,
    Language,
    PartnerMembership,
)
from cases.priority import priority_in_words
from cases.selectors import (
    case_import_get_for_user,
    case_request_languages_in_use,
    case_requests_by_a_number,
)
from cases.services import (
    IDENTIFIER_FIELDS,
    VIEW_IDENTIFIERS,
    case_request_create_by_coordinator,
    case_request_identifiers_viewed,
    case_request_review_resolve,
    case_request_submitted,
    case_request_update,
    partner_membership_end,
    partner_membership_set,
)
from cases.validation import CaseRequestInvalid
from core.admin_lists import LargeTableAdminMixin
from core.exports import csv_export
from core.forms import SUBMISSION_FIELD, SubmissionTokenField
from core.middleware import accepts_upload
from core.roles import COORDINATOR_PERMISSION


class _SentAgain(Exception):
    """The add form's submission recorded ``case`` already (CaseRequestAdmin._changeform_view)."""

    def __init__(self, case: CaseRequest):
        super().__init__(case.reference)
        self.case = case


REFERENCE_PATTERN = re.compile(r"PBM-[0-9A-Z]{8}")
EXPORT_HEADER = [
    "reference", "status", "language", "court", "case type", "detained", "next hearing",
    "hearing type", "filing deadline", "priority", "source", "organization", "created",
]  # fmt: skip
EXPORT_IDENTIFIER_HEADER = ["respondent name", "A-number"]
A_NUMBER_SEARCH_REFUSED = (
    "A-numbers are not searched from the search box: it would put the number in the page's "
    "address, the browser's history and the server's logs. Use “Find by A-number”, which sends "
    "it privately (it needs the permission to see identifiers)."
)


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "common_rank"]
    list_filter = [("common_rank", admin.EmptyFieldListFilter)]
    search_fields = ["code", "name"]


@admin.register(CaseType)
class CaseTypeAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "detained_only",
        "remote_capable",
        "needs_state_admission",
        "sort_order",
    ]
    list_editable = ["sort_order"]
    search_fields = ["code", "name"]


@admin.register(ImmigrationCourt)
class ImmigrationCourtAdmin(admin.ModelAdmin):
    list_display = ["name", "state", "city", "zip_code", "detained_only", "active"]
    list_filter = ["state", "detained_only", "active"]
    search_fields = ["name", "city", "code", "zip_code"]


class LanguageInUseFilter(admin.SimpleListFilter):
    """The common languages and those some case actually has, not the 7,000-row ISO list."""

    title = "language"
    parameter_name = "language"

    def lookups(self, request, model_admin):
        in_use = case_request_languages_in_use()
        languages = Language.objects.filter(Q(common_rank__isnull=False) | Q(code__in=in_use))
        return [(language.code, language.name) for language in languages]

    def queryset(self, request, queryset):
        return queryset.filter(language_id=self.value()) if self.value() else queryset


class PriorityBandFilter(admin.SimpleListFilter):
    title = "priority band"
    parameter_name = "band"
    # (value, label, lowest priority, highest priority); the total runs from 0 to 1000.
    BANDS = [
        ("urgent", "Urgent (600+)", 600, None),
        ("high", "High (400 to 599)", 400, 599),
        ("medium", "Medium (200 to 399)", 200, 399),
        ("low", "Low (under 200)", None, 199),
    ]

    def lookups(self, request, model_admin):
        return [(value, label) for value, label, _, _ in self.BANDS]

    def queryset(self, request, queryset):
        for value, _, low, high in self.BANDS:
            if self.value() == value:
                bounds = {"priority__gte": low, "priority__lte": high}
                return queryset.filter(**{k: v for k, v in bounds.items() if v is not None})
        return queryset


@admin.register(CaseRequest)
class CaseRequestAdmin(LargeTableAdminMixin, admin.ModelAdmin):
    form = CaseRequestAdminForm
    change_list_template = "admin/cases/caserequest/change_list.html"
    list_display = [
        "reference", "status", "language", "court", "case_type", "detained",
        "next_hearing_date", "priority", "priority_band", "source", "created_at",
    ]  # fmt: skip
    list_filter = [
        "status",
        LanguageInUseFilter,
        "court",  # all ~70 courts: cheaper than finding the ones in use over the backlog
        "case_type",
        "detained",
        PriorityBandFilter,
        "source",
        "outcome",
    ]
    search_fields = ["=reference"]
    search_help_text = (
        "A case reference (PBM-…). For an A-number use “Find by A-number”: searching puts what "
        "you type in the address bar and the server's logs."
    )
    list_select_related = ["language", "court", "case_type"]
    autocomplete_fields = [
        "language", "relay_language", "other_languages", "court", "case_type", "organization",
    ]  # fmt: skip
    readonly_fields = [
        "reference", "status", "duplicate_of", "source", "priority", "priority_breakdown",
        "created_by", "created_at", "updated_at",
        # How it ended: recorded through match_case_close, by the attorney's status update
        # (matching.checkins) or a coordinator on the match's page (its "Record the outcome",
        # which this page links to while the case is represented).
        "outcome", "relief_type", "outcome_date", "closed_at",
    ]  # fmt: skip
    # No date_hierarchy: over a 100,000-case backlog its MIN/MAX and DISTINCT date queries cost
    # more than the rest of the page, and coordinators find cases by filters and priority.
    list_per_page = 50
    actions = ["export_selected", "review_release", "review_withdraw"]
    # The add form's one-time token is the form's own field (CaseRequestAdminForm): the model's
    # is not editable, and a model form refuses to be asked for it unless it is excluded.
    exclude = [SUBMISSION_FIELD]

    CASE_FIELDS = (*CASE_FIELDS, "organization")
    STATE_FIELDS = (
        "reference", "status", "duplicate_of", "source", "priority", "priority_breakdown",
        "created_by", "created_at", "updated_at", "outcome", "relief_type", "outcome_date",
        "closed_at",
    )  # fmt: skip

    # Identifiers --------------------------------------------------------------------------------

    def may_see_identifiers(self, request, obj=None) -> bool:
        """Anyone who may add types them into the add form; a stored record needs the permission."""
        return obj is None or request.user.has_perm(VIEW_IDENTIFIERS)

    def get_fieldsets(self, request, obj=None):
        case = self.CASE_FIELDS if obj is not None else (*self.CASE_FIELDS, SUBMISSION_FIELD)
        fieldsets = [(None, {"fields": case})]
        if self.may_see_identifiers(request, obj):
            # On the add form, the box asked for when the same person was just recorded.
            person = IDENTIFIER_FIELDS if obj is not None else (*IDENTIFIER_FIELDS, AGAIN)
            fieldsets.insert(0, ("Respondent (confidential)", {"fields": person}))
        if obj is not None:
            fieldsets.append(("State", {"fields": self.STATE_FIELDS}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        # The referring organization is set at intake; reassigning it would move the case
        # between partners' views, which is not an edit this form should make in passing.
        extra = ["organization"] if obj is not None else []
        return [*self.readonly_fields, *extra]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if not self.may_see_identifiers(request, obj):
            for name in IDENTIFIER_FIELDS:  # declared form fields survive `fields`; drop them
                form.base_fields.pop(name, None)
        if obj is not None:
            form.base_fields.pop(AGAIN, None)
            form.base_fields.pop(SUBMISSION_FIELD, None)
        form.admin_user = request.user
        return form

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        match = request.resolver_match
        if match is not None and match.url_name and match.url_name.endswith("_changelist"):
            # The list never shows identifiers: do not fetch (and decrypt) them per row.
            queryset = queryset.defer(*IDENTIFIER_FIELDS)
        return queryset

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.may_see_identifiers(request, obj):
            case_request_identifiers_viewed(case_request=obj, viewer=request.user, where="admin")
            if obj.identifiers_unreadable:
                messages.warning(request, "A stored identifier of this case request is unreadable.")
        if obj is not None:
            context["outcome_url"] = _outcome_url(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changelist_view(self, request, extra_context=None):
        """Refuse an A-number typed in the search box (a GET: it is in the URL) and send the user
        to the POST lookup, on the same list without the term (SEC-23)."""
        if looks_like_a_number(request.GET.get(SEARCH_VAR, "")):
            messages.warning(request, A_NUMBER_SEARCH_REFUSED)
            query = request.GET.copy()
            del query[SEARCH_VAR]
            return HttpResponseRedirect(
                f"{request.path}?{query.urlencode()}" if query else request.path
            )
        extra_context = {
            **(extra_context or {}),
            "has_import_permission": self.has_import_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if REFERENCE_PATTERN.fullmatch(term.upper()):
            # Exact match on the unique index (the default "=reference" is a case-insensitive
            # comparison that reads every row).
            return queryset.filter(reference=term.upper()), False
        # A-numbers are never searched here: the search box puts its term in the URL (SEC-23);
        # changelist_view refuses them and points to the "Find by A-number" box, which POSTs.
        return super().get_search_results(request, queryset, search_term)

    # Writes go through the services --------------------------------------------------------------

    def save_form(self, request, form, change):
        return form.instance  # nothing is built or saved from the form itself

    def save_model(self, request, obj, form, change):
        data = form.service_data()
        if change:
            case_request_update(case_request=obj, data=data, updated_by=request.user)
            return
        case, created = case_request_create_by_coordinator(
            data=data,
            created_by=request.user,
            organization=form.cleaned_data.get("organization"),
            submission_token=form.cleaned_data[SUBMISSION_FIELD],
        )
        if not created:  # its twin, sent at the same instant, recorded it
            raise _SentAgain(case)
        obj.pk = case.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        pass  # other_languages is written by the service

    def get_changeform_initial_data(self, request):
        # The admin would prefill the add form from GET parameters: a link that carries a name
        # or an A-number in its URL is exactly what SEC-23 forbids, so none is honoured.
        return {}

    def _changeform_view(self, request, object_id, form_url, extra_context):
        """The add form sent again (a double click, a resend) goes to the request it recorded,
        before its checks would call that request a duplicate."""
        adding = object_id is None and request.method == "POST"
        try:
            if adding and self.has_add_permission(request):
                token = SubmissionTokenField().clean(request.POST.get(SUBMISSION_FIELD))
                if (earlier := case_request_submitted(token=token)) is not None:
                    raise _SentAgain(earlier)
            return super()._changeform_view(request, object_id, form_url, extra_context)
        except _SentAgain as sent:
            case = sent.case
            messages.info(request, f"This form was sent already: it recorded {case.reference}.")
            return HttpResponseRedirect(reverse("admin:cases_caserequest_change", args=[case.pk]))
        except CaseRequestInvalid as error:
            # A concurrent duplicate (the form's clean ran the checks) or a partner's token.
            messages.error(request, " ".join(m for ms in error.errors.values() for m in ms))
            return HttpResponseRedirect(request.path)

    # Display -------------------------------------------------------------------------------------

    @admin.display(description="band", ordering="priority")
    def priority_band(self, obj):
        for value, _, low, _ in PriorityBandFilter.BANDS:
            if low is None or obj.priority >= low:
                return value
        return ""

    @admin.display(description="priority breakdown")
    def priority_breakdown(self, obj):
        # The same words and order as the match page's "Urgency parts" (cases.priority).
        words = priority_in_words(obj.priority_parts)
        if not words:
            return "—"
        return format_html("{}; {} in all", format_html_join(", ", "{} {}", words), obj.priority)

    # Review of partner requests that repeat another case's A-number (issue 11 #5) --------------

    def has_view_identifiers_permission(self, request) -> bool:
        return request.user.has_perm(VIEW_IDENTIFIERS)

    @admin.action(
        description="Release reviewed requests to matching (A-number now unique)",
        permissions=["view_identifiers"],
    )
    def review_release(self, request, queryset):
        self._review_resolve(request, queryset, release=True)

    @admin.action(
        description="Withdraw reviewed requests as duplicates", permissions=["view_identifiers"]
    )
    def review_withdraw(self, request, queryset):
        self._review_resolve(request, queryset, release=False)

    def _review_resolve(self, request, queryset, *, release: bool) -> None:
        done = 0
        for case in queryset.filter(status=CaseRequest.Status.REVIEW):
            try:
                case_request_review_resolve(case_request=case, actor=request.user, release=release)
                done += 1
            except CaseRequestInvalid as error:
                message = " ".join(m for ms in error.errors.values() for m in ms)
                messages.error(request, f"{case.reference}: {message}")
        messages.info(request, f"{done} request(s) {'released' if release else 'withdrawn'}.")

    # Export --------------------------------------------------------------------------------------

    @admin.action(description="Export selected case requests to CSV", permissions=["view"])
    def export_selected(self, request, queryset):
        """Respondent name and A-number only for holders of the identifier permission (SEC-24)."""
        identifiers = request.user.has_perm(VIEW_IDENTIFIERS)
        queryset = queryset.select_related("language", "court", "case_type", "organization")
        # The changelist's queryset defers the identifiers; fetch them in the same query instead.
        queryset = queryset.defer(None).defer("contact_route", "summary", "priority_parts")
        if not identifiers:
            queryset = queryset.defer("respondent_name", "a_number")
        header = [*EXPORT_IDENTIFIER_HEADER, *EXPORT_HEADER] if identifiers else EXPORT_HEADER

        def row(case):
            values = _case_export_row(case)
            return [*_identifier_cells(case), *values] if identifiers else values

        return csv_export(
            request,
            model="caserequest",
            queryset=queryset.order_by("pk"),
            header=header,
            row=row,
            identifiers=identifiers,
            filename="case-requests",
        )

    # Import --------------------------------------------------------------------------------------

    def get_urls(self):
        urls = super().get_urls()
        view = self.admin_site.admin_view
        template = path(
            "import-template.<str:fmt>",
            self.admin_site.admin_view(self.import_template_view),
            name="cases_caserequest_import_template",
        )
        find = path(
            "find-a-number/",
            self.admin_site.admin_view(self.find_a_number_view),
            name="cases_caserequest_find_a_number",
        )
        imports = [
            path("import/", view(self.import_action), name="cases_caserequest_import"),
            path(
                "import/<int:case_import_id>/",
                view(self.import_job_view),
                name="cases_caserequest_import_job",
            ),
            path(
                "process_import/",
                view(self.process_import),
                name="cases_caserequest_process_import",
            ),
        ]
        return [template, find, *imports, *urls]

    def find_a_number_view(self, request):
        """Exact A-number lookup by POST, then a redirect to the record by its id (SEC-23)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm(VIEW_IDENTIFIERS):
            raise PermissionDenied
        found = case_requests_by_a_number(user=request.user, term=request.POST.get("a_number", ""))
        case = found.first() if found is not None else None
        if case is None:
            messages.warning(request, "No case request has this A-number.")
            return HttpResponseRedirect(reverse("admin:cases_caserequest_changelist"))
        return HttpResponseRedirect(reverse("admin:cases_caserequest_change", args=[case.pk]))

    def import_template_view(self, request, fmt):
        if not self.has_import_permission(request) or fmt not in {"csv", "xlsx"}:
            return HttpResponse(status=404)
        dataset = import_template()
        content_type = {
            "csv": "text/csv",
            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }[fmt]
        response = HttpResponse(dataset.export(fmt), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="case-requests-template.{fmt}"'
        return response

    # Import (cases/importing.py): upload, background check, preview, confirm, background import.

    def has_import_permission(self, request) -> bool:
        return self.has_add_permission(request)

    @accepts_upload(lambda: settings.IMPORT_MAX_UPLOAD_BYTES)
    def import_action(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = CaseImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            job = case_import_upload(file=form.cleaned_data["import_file"], created_by=request.user)
            # A broker that refuses leaves the job waiting: the sweeper enqueues it (REL-2).
            transaction.on_commit(partial(tasks.case_import_check.delay, job.pk), robust=True)
            return HttpResponseRedirect(_job_url(job))
        return self._import_page(request, "import.html", title="Import case requests", form=form)

    def import_job_view(self, request, case_import_id):
        if not self.has_import_permission(request):
            raise PermissionDenied
        job = case_import_get_for_user(user=request.user, case_import_id=case_import_id)
        confirm = None
        if job.status == CaseImport.Status.CHECKED and job.rows_valid:
            confirm = CaseImportConfirmForm(initial={"import_file_name": case_import_token(job)})
        title = f"Import of {timezone.localtime(job.created_at):%Y-%m-%d %H:%M}"
        return self._import_page(
            request, "import_job.html", title=title, job=job, confirm_form=confirm
        )

    def process_import(self, request):
        """The confirmation (POST): a signed job id, and the tick box when rows have errors."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = CaseImportConfirmForm(request.POST, user=request.user)
        if not form.is_valid() and "import_file_name" in form.errors:
            messages.error(request, " ".join(form.errors["import_file_name"]))
            return HttpResponseRedirect(reverse("admin:cases_caserequest_import"))
        job = form.cleaned_data["import_file_name"]
        try:
            case_import_confirm(
                case_import=job,
                skip_invalid_rows=form.cleaned_data.get("confirm_skip_invalid_rows", False),
                actor=request.user,
            )
        except CaseImportRefused as error:
            messages.error(request, error.message)
        else:
            transaction.on_commit(partial(tasks.case_import_run.delay, job.pk), robust=True)
        return HttpResponseRedirect(_job_url(job))

    def _import_page(self, request, template, *, title, **context):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "max_upload_mb": settings.IMPORT_MAX_UPLOAD_BYTES // 2**20,
            "max_rows": settings.IMPORT_MAX_ROWS,
            **context,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, f"admin/cases/caserequest/{template}", context)


def _outcome_url(request, case: CaseRequest) -> str | None:
    """The accepted match's "Record the outcome" form (matching's admin, match_case_close), for
    those who may use it (the coordinator permission, as the form checks) and only while the
    case is represented: the one state in which an outcome can be recorded."""
    if case.status != CaseRequest.Status.REPRESENTED:
        return None
    if not request.user.has_perm(COORDINATOR_PERMISSION):
        return None
    # Through the reverse relation: cases must not import matching (matching imports cases).
    match_id = case.matches.filter(status="accepted").values_list("pk", flat=True).first()
    return reverse("admin:matching_match_outcome", args=[match_id]) if match_id else None


def _job_url(job: CaseImport) -> str:
    return reverse("admin:cases_caserequest_import_job", args=[job.pk])


def _case_export_row(case: CaseRequest) -> list:
    return [
        case.reference, case.status, case.language.name, case.court.name, case.case_type.name,
        "yes" if case.detained else "no", case.next_hearing_date or "", case.next_hearing_type,
        case.filing_deadline or "", case.priority, case.source,
        case.organization.name if case.organization is not None else "",
        case.created_at.isoformat(),
    ]  # fmt: skip


def _identifier_cells(case: CaseRequest) -> list:
    return [
        "(unreadable)" if is_unreadable(value) else (value or "")
        for value in (case.respondent_name, case.a_number)
    ]


@admin.register(PartnerMembership)
class PartnerMembershipAdmin(admin.ModelAdmin):
    """Coordinators name partner staff by email (they have no access to the user list).

    Partner staff see the names and A-numbers of their organization's cases, so adding,
    moving or removing them needs the identifier permission as well (the services check it too).
    """

    form = PartnerMembershipAdminForm
    list_display = ["user", "organization", "created_at"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__email", "user__username", "organization__name"]
    autocomplete_fields = ["organization"]
    fields = ["email", "organization"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and request.user.has_perm(VIEW_IDENTIFIERS)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and request.user.has_perm(VIEW_IDENTIFIERS)

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and request.user.has_perm(VIEW_IDENTIFIERS)

    def save_form(self, request, form, change):
        return form.instance

    def save_model(self, request, obj, form, change):
        membership = partner_membership_set(
            user=form.cleaned_data["email"],
            organization=form.cleaned_data["organization"],
            actor=request.user,
        )
        obj.pk = membership.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        pass  # no relations beyond what the service wrote

    def delete_model(self, request, obj):
        partner_membership_end(membership=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("user"):
            partner_membership_end(membership=membership, actor=request.user)
