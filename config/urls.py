from django.contrib import admin
from django.urls import include, path

from core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("attorney/mentoring/", include("mentoring.urls")),
    path("attorney/", include("volunteers.urls")),
    path("interpreter/", include("interpreters.urls")),
    path("intake/", include("cases.urls")),
    path("pledges/", include("pledges.urls")),
]
