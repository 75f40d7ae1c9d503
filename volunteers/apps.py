from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "volunteers"
    verbose_name = "Volunteers"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from volunteers import signals

        user_logged_in.connect(signals.login_recorded, dispatch_uid="volunteers.login")
        user_login_failed.connect(
            signals.login_failure_recorded, dispatch_uid="volunteers.login_failed"
        )
