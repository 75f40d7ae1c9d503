import time
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpResponse, QueryDict
from django.shortcuts import resolve_url
from django.urls import Resolver404, resolve
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.defaults import bad_request

from core.errors import AccessRefused
from core.services import access_refused_record

# Where a session remembers when its sign-in happened (seconds since the epoch).
SIGNED_IN_AT = "signed_in_at"


def reject_nul_bytes(get_response):
    """Refuse a request whose path, query or form fields hold a NUL character with a 400.

    NUL is never valid input, and PostgreSQL refuses it in any text column: left to the views, a
    NUL in a lookup (an admin filter, a foreign key, a reference in the URL) fails in the
    database as a 500 that mails the admins. Refused here, once, before any view or form sees
    it (SEC-17). Uploaded files' contents are left to their parsers.
    """

    def middleware(request):
        if _holds_nul(request):
            return bad_request(request, exception=None)
        return get_response(request)

    return middleware


def accepts_upload(limit: Callable[[], int]):
    """Mark a view that takes a file of up to ``limit()`` bytes (request_size_limit); a callable,
    so that the setting is read per request (tests override it)."""

    def mark(view):
        view.upload_limit = limit
        return view

    return mark


def request_size_limit(get_response):
    """Refuse a body larger than its view accepts with 413, before anything reads it.

    Django caps a form's fields (DATA_UPLOAD_MAX_MEMORY_SIZE) but reads any file posted with
    them, to any view: a 50 MB file posted to the pledge form was read to disk. The size comes
    from Content-Length (without one, Django reads no body at all). Views marked with
    ``accepts_upload`` take their file's limit more; the view's form then refuses a file above
    the limit itself with a clear message.
    """

    def middleware(request):
        size = _content_length(request)
        if size > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:  # rare: only then resolve the view
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + _upload_limit(request)
            if size > limit:
                return HttpResponse(
                    f"The request is too large: at most {limit // (1024 * 1024)} MB.\n",
                    status=413,
                    content_type="text/plain; charset=utf-8",
                )
        return get_response(request)

    return middleware


def _holds_nul(request) -> bool:
    # request.POST parses only form bodies (urlencoded, multipart); CSRF reads it anyway.
    fields = [request.GET, request.POST] if request.method == "POST" else [request.GET]
    return "\x00" in request.path_info or any(
        "\x00" in key or any("\x00" in value for value in values)
        for query in fields
        for key, values in query.lists()
    )


def _content_length(request) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def _upload_limit(request) -> int:
    try:
        view = resolve(request.path_info).func
    except Resolver404:
        return 0
    limit = getattr(view, "upload_limit", None)
    return limit() if limit else 0


def no_store_for_authenticated(get_response):
    """Pages seen by a signed-in user hold confidential data: never cache them (SEC-3)."""

    def middleware(request):
        response = get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # Cache-Control: max-age=0, no-cache, no-store, must-revalidate, private
            add_never_cache_headers(response)
        return response

    return middleware


class AuditRefusedAccess:
    """Record each object a permission-scoped selector refused (an AccessRefused that reached
    the response as a 404) in the event log, aggregated per actor and kind (SEC-24). A refusal
    a view catches and handles (a redirect instead of a 404) is not an access attempt."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, AccessRefused):
            access_refused_record(actor=getattr(request, "user", None), kind=exception.kind)
        return None  # the 404 page, as for any other missing object


def absolute_session_timeout(get_response):
    """End a signed-in session SESSION_ABSOLUTE_SECONDS after its sign-in, however active
    (SEC-10). The idle timeout alone (SESSION_COOKIE_AGE, pushed back by every request) would
    let a stolen or forgotten session live for ever on a busy coordinator's desk.

    An expired session is flushed and the request goes on as anonymous, so each page sends the
    person to its own sign-in (the site's or the admin's), and a confidential page is never
    shown on a session past its time.
    """

    def middleware(request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.setdefault(SIGNED_IN_AT, int(time.time()))
            if time.time() - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
        return get_response(request)

    return middleware


@receiver(user_logged_in, dispatch_uid="core-session-signed-in-at")
def _remember_sign_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = int(time.time())


SIGNED_OUT_POST = (
    "You were signed out, so what you sent was not saved. Sign in, and you are back on the "
    "page you were on to send it again."
)


def signed_out_post_back_to_its_page(get_response):
    """A form sent after the session ended (signed out in another tab, timed out) meets the
    sign-in page with ``next`` set to the form's action: a POST-only address, which after
    signing in answers the browser's GET with an empty 405 (SEC-16), its own error page. Point
    ``next`` at the page the form was on instead (the Referer: sent for same-origin requests
    only, SECURE_REFERRER_POLICY) and say that nothing was saved.
    """

    def middleware(request):
        response = get_response(request)
        if request.method != "POST" or response.status_code != 302:
            return response
        login = resolve_url(settings.LOGIN_URL)
        target = urlsplit(response["Location"])
        if target.path != login or QueryDict(target.query).get("next") != request.get_full_path():
            return response
        back = _form_page(request)
        if back is not None:
            response["Location"] = redirect_to_login(back)["Location"]
            messages.info(request, SIGNED_OUT_POST)
        return response

    return middleware


def _form_page(request) -> str | None:
    """The same-origin page a POST came from (path and query), or None."""
    referer = request.headers.get("referer", "")
    if not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    page = urlsplit(referer)
    path = page.path + (f"?{page.query}" if page.query else "")
    return path if page.netloc and path != request.get_full_path() else None
