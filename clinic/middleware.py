from django.http import HttpResponseBadRequest
from django.utils.cache import patch_cache_control


class NoStoreForSignedInMiddleware:
    """Pages shown to a signed-in user hold client records: browsers and proxies must not keep
    them (Cache-Control: no-store), so a shared tablet's back button or cache shows nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, no_cache=True, private=True)
        return response


class BadQueryValuesMiddleware:
    """Bad values in the address answer 400 with a plain message, never a 500.

    A NUL character in the query string is never meaningful here, and PostgreSQL refuses it in a
    query. A number too large for a date lookup (`?performed_on__year=9223372036854775808`, which
    the admin accepts on any date field) overflows when the query is built.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in key or "\x00" in "".join(values) for key, values in request.GET.lists()):
            return HttpResponseBadRequest(
                "The address holds a character that is not allowed (NUL). Remove it and try again.",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OverflowError):
            return HttpResponseBadRequest(
                "A number in the address is out of range. Remove it and try again.",
                content_type="text/plain; charset=utf-8",
            )
        return None
