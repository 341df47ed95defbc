"""The pages of the escalations app."""

from django.urls import path

from .views import audit, dashboard, flags, followup, inbox, indicators, projects

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("flags/", flags.flag_queue, name="flag_queue"),
    path("flags/bulk/", flags.flag_bulk, name="flag_bulk"),
    path("flags/<int:pk>/", flags.flag_detail, name="flag_detail"),
    path("flags/<int:pk>/<str:action>/", flags.flag_act, name="flag_act"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("projects/", projects.project_board, name="project_board"),
    path("projects/new/", projects.project_create_view, name="project_create"),
    path("projects/<int:pk>/", projects.project_detail, name="project_detail"),
    path("projects/<int:pk>/edit/", projects.project_edit, name="project_edit"),
    path("projects/<int:pk>/status/", projects.project_status, name="project_status"),
    path("projects/<int:pk>/milestones/", projects.project_milestone_add, name="project_milestone_add"),
    path(
        "projects/<int:pk>/milestones/<int:milestone_pk>/done/",
        projects.project_milestone_done,
        name="project_milestone_done",
    ),
    path("indicators/<int:pk>/", indicators.indicator_detail, name="indicator_detail"),
    path("indicators/<int:pk>/raise/", indicators.indicator_raise_flag, name="indicator_raise_flag"),
    path("audit/", audit.audit_log, name="audit_log"),
    path("notifications/", followup.notification_list, name="notification_list"),
    path("briefings/<str:code>/", followup.briefing, name="briefing"),
    path("reports/operations/", followup.operations_report, name="operations_report"),
    path("sla/", followup.sla_policy, name="sla_policy"),
    path("checks/run/", followup.check_run_start_view, name="check_run_start"),
]
