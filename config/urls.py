from django.contrib import admin
from django.urls import include, path, re_path

from core import views as core_views
from volunteers import views as volunteers_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # allauth's page with our context (an address already confirmed says so); its pattern.
    re_path(
        r"^accounts/confirm-email/(?P<key>[-:\w]+)/$",
        volunteers_views.email_confirm,
        name="account_confirm_email",
    ),
    path("accounts/", include("allauth.urls")),
    path("attorney/mentoring/", include("mentoring.urls")),
    path("attorney/", include("volunteers.urls")),
    path("interpreter/", include("interpreters.urls")),
    path("intake/", include("cases.urls")),
    path("pledges/", include("pledges.urls")),
]
