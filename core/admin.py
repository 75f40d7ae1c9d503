from django.contrib import admin

from core.models import DomainEvent


@admin.register(DomainEvent)
class DomainEventAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only, even for superusers."""

    list_display = ["occurred_at", "actor_label", "verb", "target_type", "target_id"]
    list_filter = ["verb", "target_type"]
    search_fields = ["verb", "actor_label", "target_id"]
    list_select_related = ["target_type"]
    date_hierarchy = "occurred_at"
    readonly_fields = [f.name for f in DomainEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
