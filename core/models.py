from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or remove a recorded domain event."""


class DomainEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("domain events are append-only")

    def delete(self):
        raise AppendOnlyError("domain events are append-only")


class DomainEvent(models.Model):
    """Who did what, when, to which object (SEC-24). Append-only.

    `data` holds ids, codes and counts; never a respondent's name or A-number. On PostgreSQL a
    trigger (migration 0002) refuses UPDATE and DELETE as well, so even raw SQL cannot rewrite it.
    """

    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # No database constraint and no cascade: deleting a user must not rewrite history (the
    # append-only trigger would refuse the SET NULL); actor_label keeps who it was.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(
        max_length=150, blank=True, help_text="Who acted, kept if the user is deleted."
    )
    verb = models.CharField(max_length=64, db_index=True, help_text="e.g. match.accepted")
    target_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = DomainEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # Serves "history of this object" on admin detail pages.
            models.Index(
                fields=["target_type", "target_id", "occurred_at"], name="event_target_idx"
            ),
        ]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_label or 'system'} {self.verb}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("domain events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("domain events are append-only")
