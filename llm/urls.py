from django.urls import path

from llm import views

app_name = "llm"
urlpatterns = [
    path("models/endpoints/", views.endpoints, name="endpoints"),
    path("models/endpoints/<int:pk>/", views.endpoint_edit, name="endpoint_edit"),
    path("studies/<slug:slug>/agreement/models/", views.agreement, name="agreement"),
    path("studies/<slug:slug>/agreement/models/<str:key>/gate/", views.gate_set, name="gate"),
    path("studies/<slug:slug>/agreement/models/<str:key>/queue/", views.queue_for_humans, name="queue"),
    path("studies/<slug:slug>/models/", views.raters, name="raters"),
    path("studies/<slug:slug>/models/add/", views.rater_new, name="rater_new"),
    path("studies/<slug:slug>/models/<slug:name>/", views.rater, name="rater"),
    path("studies/<slug:slug>/models/<slug:name>/run/", views.run_start, name="run_start"),
    path("studies/<slug:slug>/models/<slug:name>/runs/<int:run>/progress/", views.run_progress, name="run_progress"),
    path("studies/<slug:slug>/models/<slug:name>/runs/<int:run>/pause/", views.run_pause_view, name="run_pause"),
    path("studies/<slug:slug>/models/<slug:name>/runs/<int:run>/resume/", views.run_resume_view, name="run_resume"),
    path("studies/<slug:slug>/models/<slug:name>/runs/<int:run>.jsonl", views.run_log, name="run_log"),
]
