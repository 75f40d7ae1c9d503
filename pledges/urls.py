from django.urls import path

from pledges import views

app_name = "pledges"

urlpatterns = [
    path("", views.pledge_wall, name="wall"),
    path("new/", views.pledge_new, name="new"),
    path("thanks/", views.pledge_thanks, name="thanks"),
    path("confirm/<str:token>/", views.pledge_confirm, name="confirm"),
    path("manage/<str:token>/", views.pledge_manage, name="manage"),
    path("manage/<str:token>/withdraw/", views.pledge_withdraw, name="withdraw"),
    path("manage/<str:token>/claim/", views.pledge_manager_claim, name="manage_claim"),
    path("organization/", views.pledge_organization, name="organization"),
    path(
        "organization/managers/<int:manager_id>/",
        views.pledge_manager_decide,
        name="manager_decide",
    ),
    path(
        "organization/attorneys/<int:attorney_id>/",
        views.pledge_attorney_decide,
        name="attorney_decide",
    ),
    path("join/<str:token>/", views.pledge_join, name="join"),
    path("totals.json", views.pledge_totals_json, name="totals_json"),
]
