"""Values every page may show: the support contact."""

from django.conf import settings


def site(request) -> dict:
    return {"SUPPORT_EMAIL": settings.SUPPORT_EMAIL}
