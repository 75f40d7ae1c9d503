from django.urls import path

from volunteers import views

app_name = "volunteers"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("profile/", views.profile, name="profile"),
    path("profile/<slug:step>/", views.profile_step, name="profile_step"),
    path("languages/search/", views.language_search, name="language_search"),
    path("offers/<int:match_id>/", views.offer, name="offer"),
    path("offers/<int:match_id>/parties/", views.offer_parties, name="offer_parties"),
    path("offers/<int:match_id>/attest/", views.offer_attest, name="offer_attest"),
    path("offers/<int:match_id>/accept/", views.offer_accept, name="offer_accept"),
    path("offers/<int:match_id>/decline/", views.offer_decline, name="offer_decline"),
    path("cases/<int:match_id>/", views.case, name="case"),
    path("cases/<int:match_id>/hours/", views.case_hours, name="case_hours"),
    path("cases/<int:match_id>/put-back/", views.case_put_back, name="case_put_back"),
    path("opportunities/", views.opportunities, name="opportunities"),
    path(
        "opportunities/<str:reference>/request/",
        views.opportunity_request,
        name="opportunity_request",
    ),
    path("cases/<int:match_id>/status/", views.case_status, name="case_status"),
    path("status/<str:token>/", views.status_link, name="status_link"),
    path("account/", views.account, name="account"),
    path("account/delete/", views.account_delete, name="account_delete"),
    path("account/calendar/", views.calendar, name="calendar"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("digest/unsubscribe/<str:token>/", views.digest_unsubscribe, name="digest_unsubscribe"),
    path(
        "verification/resend/",
        views.email_verification_resend,
        name="email_verification_resend",
    ),
]
