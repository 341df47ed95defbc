"""The answer for a path under ``/api/v1/`` that names no endpoint (or an id that is not a number)."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema


@csrf_exempt  # answers every method with a 404; there is nothing here to protect
@extend_schema(exclude=True)
def not_found(request, *args, **kwargs) -> JsonResponse:
    return JsonResponse({"detail": "Not found."}, status=404)
