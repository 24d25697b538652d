from django.urls import path

from .views import build, respond, results

app_name = "surveys"
SURVEY = "studies/<slug:slug>/surveys/<int:pk>/"
urlpatterns = [
    path("studies/<slug:slug>/surveys/", build.survey_list, name="list"),
    path("studies/<slug:slug>/surveys/new/", build.survey_new, name="new"),
    path(SURVEY, build.survey_detail, name="detail"),
    path(f"{SURVEY}schedule/", build.survey_schedule, name="schedule"),
    path(f"{SURVEY}close/", build.survey_close, name="close"),
    path(f"{SURVEY}reopen/", build.survey_reopen, name="reopen"),
    path(f"{SURVEY}responses.csv", build.responses_csv, name="responses_csv"),
    path(f"{SURVEY}results/", results.survey_results, name="results"),
    # Public: the token is the only key; no account.
    path("s/<str:token>/", respond.respond, name="respond"),
    path("s/<str:token>/<int:page>/", respond.section, name="section"),
    path("s/<str:token>/submit/", respond.submit, name="submit"),
]
