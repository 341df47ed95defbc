"""Page-number pagination: ``?page=`` and ``?page_size=`` (1 to 1000; a larger size gives 1000), answering
``count``, ``next``, ``previous`` and ``results``. A page size that is not a whole number, or a page size or
page given twice, is a 400 rather than silently the default; a page past the end is DRF's 404."""

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request: Request) -> int:
        raw = self._single(request, self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            raise ValidationError({self.page_size_query_param: ["A whole number from 1 to 1000."]})
        return min(int(raw), self.max_page_size)

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        self.validate_query(request)
        return super().paginate_queryset(queryset, request, view)

    def validate_query(self, request: Request) -> None:
        """Refuse a malformed page or page size (also where every row is answered, as in a CSV export)."""
        self.get_page_size(request)
        page = self._single(request, self.page_query_param)
        if page is not None and page != "last" and not (page.isascii() and page.isdigit()):
            raise ValidationError({self.page_query_param: ["A page number from 1."]})

    @staticmethod
    def _single(request: Request, name: str) -> str | None:
        values = request.query_params.getlist(name)
        if len(values) > 1:
            raise ValidationError({name: ["Give it once."]})
        return values[0] if values else None

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param or parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters
