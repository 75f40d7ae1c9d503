from django.urls import path

from mentoring import views

app_name = "mentoring"

urlpatterns = [
    path("", views.preferences, name="preferences"),
    path("offers/<int:mentorship_id>/", views.offer, name="offer"),
    path("offers/<int:mentorship_id>/accept/", views.offer_accept, name="offer_accept"),
    path("offers/<int:mentorship_id>/decline/", views.offer_decline, name="offer_decline"),
    path("<int:mentorship_id>/end/", views.end, name="end"),
    path("cases/<int:match_id>/share/", views.share, name="share"),
    path("shared/<int:share_id>/", views.shared, name="shared"),
    path("shared/<int:share_id>/parties/", views.shared_parties, name="shared_parties"),
    path("shared/<int:share_id>/attest/", views.shared_attest, name="shared_attest"),
    path("shared/<int:share_id>/record/", views.shared_record, name="shared_record"),
]
