from django.apps import AppConfig, apps
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


def _after_migrate(sender, using="default", **kwargs):
    """Reference data and roles exist after every migrate, and after a test database flush.

    Runs once, for the last of the project's apps, so that every permission already exists.
    """
    if sender.name != "matching":
        return
    from django.contrib.auth.management import create_permissions

    from cases.reference import load_reference_data
    from core.roles import coordinator_group_sync

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    load_reference_data(refresh=False)
    coordinator_group_sync()


class CoreConfig(AppConfig):
    default = True  # this module holds two configs: "core" in INSTALLED_APPS means this one
    name = "core"
    verbose_name = "Audit and site"

    def ready(self):
        post_migrate.connect(_after_migrate, dispatch_uid="core.after_migrate")
        from core import (
            middleware,  # noqa: F401 (connects the sign-in time receiver)
            signals,  # noqa: F401 (deactivation ends the sessions)
        )


class ProBonoAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with core.admin_site.ProBonoAdminSite as `admin.site`."""

    default = False
    default_site = "core.admin_site.ProBonoAdminSite"
