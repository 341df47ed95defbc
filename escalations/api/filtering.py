"""The API's list filters: the pages' FilterSets (``escalations.filters``), through django-filter's backend,
which answers 400 for a value a filter refuses. One rule differs from a page: a page's form sends an empty
field for "any", an API client leaves the parameter out, so a non-text filter given empty (``?critical=``)
is refused rather than ignored — the schema says it is a boolean, a number or a date."""

from typing import Any

from django_filters import filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError


class FilterBackend(DjangoFilterBackend):
    def get_filterset_kwargs(self, request: Any, queryset: Any, view: Any) -> dict[str, Any]:
        filterset_class = self.get_filterset_class(view, queryset)
        if request.query_params.get("format", None) == "":
            raise ValidationError({"format": ["Give csv or json, or leave the parameter out."]})
        if filterset_class is not None:
            empty = {
                name: ["Give a value, or leave the parameter out."]
                for name, field in filterset_class.base_filters.items()
                if not isinstance(field, filters.CharFilter) and "" in request.query_params.getlist(name)
            }
            if empty:
                raise ValidationError(empty)
        return super().get_filterset_kwargs(request, queryset, view)
