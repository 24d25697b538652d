from django.http import HttpRequest

from studies.models import Study


def navigation(request: HttpRequest) -> dict:
    """The studies in the top bar (a lazy queryset: no query unless shown)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_studies": Study.objects.visible_to(user).only("name", "slug")}
