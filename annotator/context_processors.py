from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from studies.discussion import unread_count
from studies.models import Study


def navigation(request: HttpRequest) -> dict:
    """The studies and the unread mentions in the top bar (lazy: no query unless shown)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_studies": Study.objects.visible_to(user).only("name", "slug"),
        "unread_notifications": SimpleLazyObject(lambda: unread_count(user)),
    }
