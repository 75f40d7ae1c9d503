from django.apps import AppConfig


class MentoringConfig(AppConfig):
    name = "mentoring"
    verbose_name = "Mentoring"

    def ready(self):
        # Services send signals after commit; the tasks that answer them are connected here,
        # so that services never import tasks (tasks import services).
        from mentoring import signals, tasks

        signals.mentorship_offered.connect(
            tasks.offer_notify_on_signal, dispatch_uid="mentoring.offer_notify"
        )
