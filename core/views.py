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
    return render(request, "core/home.html", {"totals": figures.totals})


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the load balancer and `make run`: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
