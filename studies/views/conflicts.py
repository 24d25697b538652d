"""The one place a stale or malformed version becomes an HTTP answer (studies/versions.py)."""

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from studies.versions import BadVersion, StaleVersion


def answers_conflicts(render_conflict: Callable[..., HttpResponse]):
    """A write based on an older version answers 409, as `render_conflict(request, stale, **kwargs)` shows it (the
    newer value, and a way to overwrite it knowingly); a missing or malformed version answers 400."""

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except BadVersion as error:
                return render(request, "400.html", {"message": str(error)}, status=400)
            except StaleVersion as stale:
                response = render_conflict(request, stale, *args, **kwargs)
                response.status_code = 409
                return response

        return wrapper

    return decorator
