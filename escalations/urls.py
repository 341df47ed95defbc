"""The pages of the escalations app."""

from django.urls import path

from .views import (
    accounts,
    audit_log,
    briefings,
    check_runs,
    dashboard,
    flags,
    indicators,
    notifications,
    operations_report,
    projects,
    search,
    sla_policy,
)

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("search/", search.search, name="search"),
    path("search/suggestions/", search.search_suggestions, name="search_suggestions"),
    path("flags/", flags.flag_queue, name="flag_queue"),
    path("flags/bulk/", flags.flag_bulk, name="flag_bulk"),
    path("flags/views/", flags.saved_view_create, name="saved_view_create"),
    path("flags/views/<int:pk>/delete/", flags.saved_view_remove, name="saved_view_remove"),
    path("flags/<int:pk>/", flags.flag_detail, name="flag_detail"),
    path("flags/<int:pk>/<str:action>/", flags.flag_act, name="flag_act"),
    path("inbox/", briefings.inbox, name="inbox"),
    path("briefings/<str:code>/", briefings.briefing, name="briefing"),
    path("projects/", projects.project_board, name="project_board"),
    path("projects/new/", projects.project_create_view, name="project_create"),
    path("projects/<int:pk>/", projects.project_detail, name="project_detail"),
    path("projects/<int:pk>/edit/", projects.project_edit, name="project_edit"),
    path("projects/<int:pk>/milestones/", projects.project_milestone_add, name="project_milestone_add"),
    path(
        "projects/<int:pk>/milestones/<int:milestone_pk>/edit/",
        projects.project_milestone_edit,
        name="project_milestone_edit",
    ),
    path(
        "projects/<int:pk>/milestones/<int:milestone_pk>/done/",
        projects.project_milestone_done,
        name="project_milestone_done",
    ),
    path("projects/<int:pk>/<str:action>/", projects.project_act_view, name="project_act"),
    path("indicators/<int:pk>/", indicators.indicator_detail, name="indicator_detail"),
    path("indicators/<int:pk>/raise/", indicators.indicator_raise_flag, name="indicator_raise_flag"),
    path("indicators/<int:pk>/tune/", indicators.indicator_tune_view, name="indicator_tune"),
    path("indicators/<int:pk>/merge/", indicators.indicator_merge_view, name="indicator_merge"),
    path("audit/", audit_log.audit_log, name="audit_log"),
    path("notifications/", notifications.notification_list, name="notification_list"),
    path("reports/operations/", operations_report.operations_report, name="operations_report"),
    path("sla/", sla_policy.sla_policy, name="sla_policy"),
    path("accounts/password/", accounts.password_change_view, name="password_change"),
    path("ops/check-runs/", check_runs.check_run_list, name="checkrun_list"),
    path("checks/run/", check_runs.check_run_start_view, name="check_run_start"),
]
