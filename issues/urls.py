from django.urls import path

from . import views

app_name = "issues"
urlpatterns = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/progress", views.import_progress, name="import_progress"),
    path("imports/<int:pk>/errors.csv", views.import_errors, name="import_errors"),
    path("imports/<int:pk>/fetch-comments", views.fetch_comments, name="fetch_comments"),
]
