"""Input no page can store, refused once for every URL before any view sees it."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

NUL = "\x00"


class RefuseNulMiddleware:
    """A NUL character in the path, a query parameter or a form field answers 400, saying where.

    PostgreSQL cannot hold NUL in text ("A string literal cannot contain NUL (0x00) characters"), so any path,
    filter or form value that reaches a query or a row with one would fail as a server error. No one types NUL;
    refusing it here covers every URL converter, filter and form at once, including views that read
    request.POST themselves. As a view hook it runs after the login and CSRF checks, which answer first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view, args, kwargs) -> HttpResponse | None:
        if NUL in request.path:
            return _refuse(request, "The address contains a NUL character (0x00).")
        # A view exempt from the CSRF middleware reads its body itself (the Imports page streams uploads to disk
        # through its own handler, which must be in place before the body is read): its forms check their fields.
        sources = [("query parameter", request.GET)]
        if not getattr(view, "csrf_exempt", False):
            sources.append(("form field", request.POST))
        for where, data in sources:
            for name, values in data.lists():
                if NUL in name or any(NUL in value for value in values):
                    return _refuse(request, f"The {where} {name[:40]!r} contains a NUL character (0x00).")
        return None


def _refuse(request: HttpRequest, reason: str) -> HttpResponse:
    message = f"{reason} No text here may contain one; remove it and try again."
    return render(request, "400.html", {"message": message}, status=400)
