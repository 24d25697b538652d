import sys

from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views import defaults
from django.views.decorators.http import require_GET

from studies.people import set_password_tokens

from .demo import DEMO_PASSWORD, demo_logins
from .lockout import password_guess_failed, password_guess_refused


class LoginView(auth_views.LoginView):
    """Django's login view; a demo install also lists its public demo accounts."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if settings.DEMO_MODE:
            context.update(demo_logins=demo_logins(), demo_password=DEMO_PASSWORD)
        return context


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's form, except that it is no oracle for the current password: a wrong one counts as a failed login
    (annotator/lockout.py), and a locked user gets the lockout page instead of another try."""

    def __init__(self, user, *args, request: HttpRequest, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self) -> str:
        username = self.user.get_username()
        if password_guess_refused(self.request, username):
            raise ValidationError("Too many wrong passwords: try again later.", code="locked_out")
        try:
            return super().clean_old_password()
        except ValidationError:
            password_guess_failed(self.request, username)
            raise


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


@method_decorator(login_not_required, name="dispatch")  # as Django's: the person has no password yet
class SetPasswordView(auth_views.PasswordResetConfirmView):
    """Where a link from the People page leads: Django's reset confirmation, with our token (studies/people.py)."""

    token_generator = set_password_tokens
    template_name = "registration/password_set_form.html"
    success_url = reverse_lazy("password_set_done")

    def dispatch(self, *args, **kwargs):
        # Django's view answers a link that does not work before it looks at the method: PUT and the like first.
        if self.request.method.lower() not in self.http_method_names:
            return self.http_method_not_allowed(*args, **kwargs)
        return super().dispatch(*args, **kwargs)


class SetPasswordDoneView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_set_done.html"


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """For container health checks: up, and the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page declares; send them to the one icon there is."""
    return redirect(static("favicon.svg"), permanent=True)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 page, except when the database is down or restarting: that is a 503, "try again"."""
    if isinstance(sys.exception(), OperationalError | InterfaceError):
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        return response
    return defaults.server_error(request)
