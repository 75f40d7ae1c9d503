from django.utils.cache import add_never_cache_headers


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
