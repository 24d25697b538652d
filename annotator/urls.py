from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(http_method_names=["get", "post"]), name="login"),
    # No sign-up and no reset by e-mail: admins create accounts and hand out links to set a password (People).
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        views.PasswordChangeView.as_view(http_method_names=["get", "post"]),
        name="password_change",
    ),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/set-password/done/", views.SetPasswordDoneView.as_view(), name="password_set_done"),
    path(
        "accounts/set-password/<uidb64>/<token>/",
        views.SetPasswordView.as_view(http_method_names=["get", "post"]),
        name="password_set",
    ),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("", include("issues.urls")),
    path("", include("studies.urls")),
    path("", include("agreement.urls")),
    path("", include("llm.urls")),
    path("", include("surveys.urls")),
]

handler500 = views.server_error
