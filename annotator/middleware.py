"""Requests no page can answer, refused once for every URL before any view sees them."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

NUL = "\x00"


class RefuseNulMiddleware:
    """A NUL character in the path or a query parameter answers 400, saying where.

    PostgreSQL cannot hold NUL in text ("A string literal cannot contain NUL (0x00) characters"), so a path or a
    filter that reaches a query with one would fail as a server error. No link holds NUL; refusing it here covers
    every URL converter and filter at once. Form fields are not checked here: the forms and services refuse NUL
    at the field it was typed in (checked_text), with the page as it was filled in. As a view hook it runs after
    the login check, which answers first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view, args, kwargs) -> HttpResponse | None:
        if NUL in request.path:
            return _refuse(request, "The address contains a NUL character (0x00).")
        for name, values in request.GET.lists():
            if NUL in name or any(NUL in value for value in values):
                return _refuse(request, f"The query parameter {name[:40]!r} contains a NUL character (0x00).")
        return None


def _refuse(request: HttpRequest, reason: str) -> HttpResponse:
    message = f"{reason} No text here may contain one; remove it and try again."
    return render(request, "400.html", {"message": message}, status=400)


class UntrustedProxyMiddleware:
    """With HTTPS=1 and no proxy trusted, a request that a TLS proxy forwarded (X-Forwarded-Proto: https) would be
    redirected to HTTPS, come back through the same proxy, and be redirected again, for ever: the browser shows
    only "too many redirects". Say instead what the operator must set. Installed only in that configuration, and
    first, before the redirect; a client sending the header itself gets this page rather than a way round it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.META.get("HTTP_X_FORWARDED_PROTO", "").lower() == "https" and not request.is_secure():
            message = (
                "This request came through a proxy serving HTTPS, but the app trusts no proxy "
                f"(ANNOTATOR_TRUSTED_PROXIES is {settings.ANNOTATOR_TRUSTED_PROXIES}), so it would redirect to HTTPS "
                "for ever. The operator sets ANNOTATOR_TRUSTED_PROXIES to the number of proxies in front of the app "
                "(README, Deployment)."
            )
            # Plain text: this runs before the session and the user exist, so no page of the site can be drawn.
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
