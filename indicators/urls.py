"""The operations pages of the indicators app."""

from django.urls import path

from . import views

urlpatterns = [
    path("rules/", views.rule_list, name="rule_list"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("imports/", views.import_upload, name="import_upload"),
    path("imports/background/<int:pk>/", views.import_upload_detail, name="import_upload_detail"),
    path("imports/progress/<str:upload_id>/", views.import_progress, name="import_progress"),
]
