from allauth.account.adapter import get_adapter
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from core.dashboard import dashboard_figures


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The public figures are the need dashboard's, as the beat task last refreshed them: a
    visitor never makes the site count the cases table (1,000,000 rows)."""
    figures, _ = dashboard_figures()
    context = {"totals": figures.totals}
    if request.user.is_authenticated:  # where signing in sends them (volunteers.adapters)
        context["own_page"] = get_adapter(request).get_login_redirect_url(request)
    return render(request, "core/home.html", context)


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the load balancer and `make run`: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
