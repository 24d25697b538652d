from django.urls import path

from agreement import round_views, views
from agreement.methods import views as methods

app_name = "agreement"
urlpatterns = [
    path("studies/<slug:slug>/agreement/", views.agreement, name="report"),
    path("studies/<slug:slug>/rounds/", round_views.rounds, name="rounds"),
    path("studies/<slug:slug>/rounds.csv", round_views.rounds_export, name="rounds_export"),
    path("studies/<slug:slug>/rounds/<int:round_number>/", round_views.round_report, name="round"),
    path("studies/<slug:slug>/rounds/<int:round_number>/close/", round_views.round_close_view, name="round_close"),
    path("studies/<slug:slug>/agreement/gold/", views.gold_scores, name="gold"),
    path("studies/<slug:slug>/agreement/primary/<str:key>/", views.primary, name="primary"),
    path("studies/<slug:slug>/methods/", methods.methods, name="methods"),
    path("studies/<slug:slug>/methods/examples/", methods.example_add, name="methods_example_add"),
    path("studies/<slug:slug>/methods/examples/remove/", methods.example_remove, name="methods_example_remove"),
]
