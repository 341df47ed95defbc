"""``me/``, ``portfolios/``, ``agencies/`` and ``dashboard/``: who you are, the reference data, and the RAG
counts everyone signed in may read."""

from collections.abc import Callable

from django.db.models import Model
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import Capability
from escalations import reports
from escalations.filters import IndicatorFilter
from escalations.selectors import indicators_on_dashboard
from indicators import selectors as indicator_selectors
from indicators.models import Rag
from indicators.services import agency_save, portfolio_save

from ..fields import CharField
from ..filtering import FilterBackend
from ..pagination import Pagination
from ..permissions import Allows, ReadOnly
from ..serializers.indicators import AgencySerializer, MeSerializer, PortfolioSerializer


class MeView(APIView):
    """The signed-in user: username, roles, and the agencies and portfolios they cover (by code)."""

    @extend_schema(summary="Who am I", responses={200: MeSerializer})
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class _ReferenceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Reference data: everyone reads; admins create and change (through ``indicators.services``)."""

    permission_classes = [IsAuthenticated & (ReadOnly | Allows(Capability.MANAGE_REFERENCE_DATA))]
    pagination_class = Pagination
    http_method_names = ["get", "post", "patch", "head", "options"]
    save_service: Callable[..., Model] | None = None  # the service that creates or changes one

    def perform_create(self, serializer):
        serializer.instance = type(self).save_service(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = type(self).save_service(
            actor=self.request.user, **{self.lookup_model_name: serializer.instance}, **serializer.validated_data
        )


@extend_schema_view(
    list=extend_schema(summary="Deputy mayors' portfolios"),
    create=extend_schema(summary="Add a portfolio (admin)"),
    partial_update=extend_schema(summary="Change a portfolio (admin)"),
)
class PortfolioViewSet(_ReferenceViewSet):
    queryset = indicator_selectors.portfolios_listed()
    serializer_class = PortfolioSerializer
    save_service = staticmethod(portfolio_save)
    lookup_model_name = "portfolio"


@extend_schema_view(
    list=extend_schema(summary="Agencies"),
    create=extend_schema(summary="Add an agency (admin)"),
    partial_update=extend_schema(summary="Change an agency (admin)"),
)
class AgencyViewSet(_ReferenceViewSet):
    queryset = indicator_selectors.agencies_listed()
    serializer_class = AgencySerializer
    save_service = staticmethod(agency_save)
    lookup_model_name = "agency"


class RagCounts(serializers.Serializer):
    red = serializers.IntegerField()
    yellow = serializers.IntegerField()
    green = serializers.IntegerField()
    not_checked = serializers.IntegerField(help_text="Indicators no check has looked at yet.")


class AgencyRagCounts(RagCounts):
    code = CharField()
    name = CharField()


class PortfolioRagCounts(RagCounts):
    code = CharField(allow_null=True, help_text="null: the agencies without a portfolio.")
    name = CharField()
    agencies = AgencyRagCounts(many=True)


class DashboardSerializer(serializers.Serializer):
    totals = RagCounts()
    portfolios = PortfolioRagCounts(many=True)


class DashboardView(GenericAPIView):
    """RAG counts of the active indicators (what the latest check measured), per portfolio and, within it, per
    agency, worst first (most red, then most yellow) — counted by the dashboard page's own function, with the
    page's filters (``q`` searches as the header's search box does)."""

    filter_backends = [FilterBackend]
    filterset_class = IndicatorFilter
    pagination_class = None

    def get_queryset(self):
        return indicators_on_dashboard()

    @extend_schema(
        summary="RAG counts per portfolio and agency, worst first", responses={200: DashboardSerializer}, filters=True
    )
    def get(self, request):
        groups, totals = reports.dashboard(self.filter_queryset(self.get_queryset()))
        portfolios = [
            {**_counts(portfolio), "agencies": [_counts(agency) for agency in portfolio.children]}
            for portfolio in groups
        ]
        return Response({"totals": _counts(totals, named=False), "portfolios": portfolios})


def _counts(group: reports.Group, named: bool = True) -> dict:
    counts = {
        "red": group.counts[Rag.RED],
        "yellow": group.counts[Rag.YELLOW],
        "green": group.counts[Rag.GREEN],
        "not_checked": group.unchecked,
    }
    return {"code": group.code, "name": group.name, **counts} if named else counts
