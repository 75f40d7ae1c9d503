"""The pledge back office: review pledges (approve, reject, export) and organization managers."""

from django.contrib import admin, messages
from django.db import transaction

from core.errors import DomainError
from core.exports import csv_export, iso
from pledges.models import OrganizationManager, Pledge
from pledges.services import (
    organization_manager_approve,
    organization_manager_remove,
    pledge_approve,
    pledge_reject,
)


@admin.register(OrganizationManager)
class OrganizationManagerAdmin(admin.ModelAdmin):
    """Who manages which organization's pledges. Coordinators approve a waiting claim (one made
    from a pledge that found an existing organization by its name) or remove a manager here."""

    list_display = ["organization", "user", "created_at", "approved_at"]
    list_filter = [("approved_at", admin.EmptyFieldListFilter)]
    search_fields = ["organization__name", "user__email"]
    list_select_related = ["organization", "user"]
    raw_id_fields = ["user"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["created_at", "approved_at"]
    actions = ["approve_selected"]

    def has_add_permission(self, request):
        return False  # managers claim their account from an approved pledge's signed link

    def has_change_permission(self, request, obj=None):
        # The list's approve action needs it; a manager row itself is never edited.
        return obj is None and super().has_change_permission(request)

    @admin.action(
        description="Approve selected claims to manage an organization", permissions=["change"]
    )
    def approve_selected(self, request, queryset):
        count = 0
        for manager in queryset.filter(approved_at__isnull=True):
            organization_manager_approve(manager=manager, actor=request.user)
            count += 1
        self.message_user(request, f"{count} manager(s) approved.")

    def delete_model(self, request, obj):
        organization_manager_remove(manager=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for manager in queryset.select_related("organization"):
            organization_manager_remove(manager=manager, actor=request.user)


@admin.register(Pledge)
class PledgeAdmin(admin.ModelAdmin):
    list_display = [
        "organization",
        "kind",
        "amount",
        "period_start",
        "period_end",
        "status",
        "public",
        "created_at",
    ]
    list_filter = ["status", "kind", "public", "organization__kind"]
    search_fields = ["organization__name", "contact_name", "contact_email"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization", "courts", "languages", "case_types"]
    date_hierarchy = "created_at"
    # Status changes only through the actions (a service, an event, the wall's cache refreshed).
    readonly_fields = [
        "status", "organization_created", "created_at", "confirmed_at", "confirmation_sent_at",
        "decided_at",
    ]  # fmt: skip
    actions = ["approve_selected", "reject_selected", "export_selected"]

    def _decide(self, request, queryset, service, done: str):
        count = 0
        for pledge in queryset:
            try:
                with transaction.atomic():
                    service(pledge=pledge, actor=request.user)
            except DomainError as error:
                self.message_user(request, f"Pledge {pledge.pk}: {error.message}", messages.WARNING)
            else:
                count += 1
        if count:
            self.message_user(request, f"{count} pledge(s) {done}.")

    @admin.action(description="Approve selected pledges (show on the wall)", permissions=["change"])
    def approve_selected(self, request, queryset):
        self._decide(request, queryset, pledge_approve, "approved")

    @admin.action(description="Reject selected pledges", permissions=["change"])
    def reject_selected(self, request, queryset):
        self._decide(request, queryset, pledge_reject, "rejected")

    @admin.action(description="Export selected pledges to CSV", permissions=["view"])
    def export_selected(self, request, queryset):
        return csv_export(
            request,
            model="pledge",
            queryset=queryset.select_related("organization").order_by("pk"),
            header=PLEDGE_EXPORT_HEADER,
            row=_pledge_export_row,
            filename="pledges",
        )


PLEDGE_EXPORT_HEADER = [
    "id", "organization", "contact name", "contact email", "kind", "amount", "period start",
    "period end", "status", "public", "created", "decided",
]  # fmt: skip


def _pledge_export_row(pledge: Pledge) -> list:
    return [
        pledge.pk, pledge.organization.name, pledge.contact_name, pledge.contact_email,
        pledge.kind, pledge.amount if pledge.amount is not None else "", iso(pledge.period_start),
        iso(pledge.period_end), pledge.status, "yes" if pledge.public else "no",
        iso(pledge.created_at), iso(pledge.decided_at),
    ]  # fmt: skip
