from django.urls import path

from agreement import views
from agreement.methods import views as methods

app_name = "agreement"
urlpatterns = [
    path("studies/<slug:slug>/agreement/", views.agreement, name="report"),
    path("studies/<slug:slug>/agreement/gold/", views.gold_scores, name="gold"),
    path("studies/<slug:slug>/agreement/primary/<str:key>/", views.primary, name="primary"),
    path("studies/<slug:slug>/methods/", methods.methods, name="methods"),
    path("studies/<slug:slug>/methods/examples/", methods.example_add, name="methods_example_add"),
    path("studies/<slug:slug>/methods/examples/remove/", methods.example_remove, name="methods_example_remove"),
]
