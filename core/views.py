from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from core.selectors import site_totals


@require_safe
def home(request):
    return render(request, "core/home.html", {"totals": site_totals()})


@require_safe
def healthz(request):
    """Liveness for the load balancer and `make run`: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
