"""``events/``: the audit trail as far as the user's scope reaches, filtered, paginated or as CSV."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer

from escalations.exports import audit_log_csv
from escalations.filters import EventFilter
from escalations.selectors import events_visible_to

from ..csv import CsvExportMixin, CSVRenderer
from ..filtering import FilterBackend
from ..pagination import Pagination
from ..serializers.flags import EventSerializer
from .flags import CSV_PARAMETER


@extend_schema_view(
    list=extend_schema(summary="The audit log", parameters=[CSV_PARAMETER]),
    retrieve=extend_schema(summary="One event"),
)
class EventViewSet(CsvExportMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = EventSerializer
    filter_backends = [FilterBackend]
    filterset_class = EventFilter
    pagination_class = Pagination
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]
    csv_export = staticmethod(audit_log_csv)  # the audit-log page's export

    def get_queryset(self):
        return events_visible_to(self.request.user)  # ordered by ``EventFilter``: oldest first by default
