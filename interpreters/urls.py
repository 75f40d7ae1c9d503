from django.urls import path

from interpreters import views

app_name = "interpreters"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("join/", views.join, name="join"),
    path("profile/", views.profile, name="profile"),
    path("offers/<int:assignment_id>/", views.offer, name="offer"),
    path("offers/<int:assignment_id>/parties/", views.offer_parties, name="offer_parties"),
    path("offers/<int:assignment_id>/attest/", views.offer_attest, name="offer_attest"),
    path("offers/<int:assignment_id>/accept/", views.offer_accept, name="offer_accept"),
    path("offers/<int:assignment_id>/decline/", views.offer_decline, name="offer_decline"),
    path("cases/<int:assignment_id>/", views.case, name="case"),
]
