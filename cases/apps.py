from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _after_migrate(sender, **kwargs):
    """The case request roles exist after every migrate (and test-database flush)."""
    from core.roles import identifier_viewers_group_sync, partner_intake_group_sync

    partner_intake_group_sync()
    identifier_viewers_group_sync()


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases"  # not "Case requests", which its main model is called too

    def ready(self):
        # Connected for this app only: its permissions exist by then (auth's handler runs first).
        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="cases.after_migrate")
        from cases import signals, tasks

        signals.case_request_review_due.connect(
            tasks.review_alert_enqueue_on_signal, dispatch_uid="cases.review_due"
        )
