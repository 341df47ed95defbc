"""Every route of ``/api/v1/``."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from .views.auth import TokensView, TokenView
from .views.briefings import BriefingView
from .views.errors import not_found
from .views.events import EventViewSet
from .views.flags import FlagViewSet
from .views.indicators import CheckRunViewSet, ImportUploadViewSet, ImportViewSet, IndicatorViewSet, RuleViewSet
from .views.notifications import NotificationViewSet
from .views.projects import ProjectViewSet
from .views.reference import AgencyViewSet, DashboardView, MeView, PortfolioViewSet

app_name = "api"

router = DefaultRouter()
router.include_root_view = False
router.register("portfolios", PortfolioViewSet, basename="portfolio")
router.register("agencies", AgencyViewSet, basename="agency")
router.register("indicators", IndicatorViewSet, basename="indicator")
router.register("rules", RuleViewSet, basename="rule")
router.register("check-runs", CheckRunViewSet, basename="check-run")
router.register("imports", ImportViewSet, basename="import")
router.register("import-uploads", ImportUploadViewSet, basename="import-upload")
router.register("flags", FlagViewSet, basename="flag")
router.register("projects", ProjectViewSet, basename="project")
router.register("events", EventViewSet, basename="event")
router.register("notifications", NotificationViewSet, basename="notification")


urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    path("auth/tokens/", TokensView.as_view(), name="tokens"),
    path("me/", MeView.as_view(), name="me"),
    path("dashboard/", DashboardView.as_view(), name="dashboard"),
    path("briefings/<str:code>/", BriefingView.as_view(), name="briefing"),
    path("schema/", SpectacularAPIView.as_view(api_version="1"), name="schema"),
    # The split view serves its start-up script as a file, so the page runs under the CSP (no inline script).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("", include(router.urls)),
    # Anything else under /api/v1/ answers a JSON 404, like every other API error.
    re_path(r"^.*$", not_found, name="not-found"),
]
