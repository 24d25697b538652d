from django.urls import path

from agreement import views

app_name = "agreement"
urlpatterns = [
    path("studies/<slug:slug>/agreement/", views.agreement, name="report"),
    path("studies/<slug:slug>/agreement/gold/", views.gold_scores, name="gold"),
    path("studies/<slug:slug>/agreement/primary/<str:key>/", views.primary, name="primary"),
]
