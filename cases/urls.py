from django.urls import path

from cases import views

app_name = "cases"

# References only (PBM-XXXXXXXX): no name or A-number ever appears in a URL (SEC-23).
urlpatterns = [
    path("", views.intake_list, name="list"),
    path("new/", views.intake_create, name="create"),
    path("<str:reference>/", views.intake_detail, name="detail"),
    path("<str:reference>/edit/", views.intake_edit, name="edit"),
]
