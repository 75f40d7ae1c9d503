from django.apps import AppConfig


class PledgesConfig(AppConfig):
    name = "pledges"
    verbose_name = "Pledges"

    def ready(self):
        from pledges import signals, tasks

        signals.pledge_confirmation_due.connect(
            tasks.pledge_confirmation_enqueue_on_signal, dispatch_uid="pledges.confirmation_due"
        )
