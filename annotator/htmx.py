"""The htmx seam: one helper chooses between a page and its fragment, one middleware says that they differ.

Pages are server-rendered; htmx asks for a named partial of the same template
(`{% partialdef %}`) to swap into place. Every link or form that htmx enhances
also works without JavaScript, getting the whole page.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def render_page(
    request: HttpRequest, template: str, context: dict, *, partial: str, status: int = 200
) -> HttpResponse:
    """The whole page, or only its `partial` when htmx asks for a fragment."""
    name = f"{template}#{partial}" if request.htmx else template
    return render(request, name, context, status=status)


class VaryOnHtmxMiddleware:
    """Every response may differ for htmx (a fragment instead of a page): say so, so that no cache, and no
    browser going back, serves one for the other."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        patch_vary_headers(response, ("HX-Request",))
        return response
