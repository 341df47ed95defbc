"""Pages answer a domain error that reached them (a refusal no form caught) with its own HTTP status and
message, as the API does: 403 with the 403 page, 404 with the 404 page, 400 or 409 with the error page."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from .errors import DomainError

_TEMPLATES = {403: "403.html", 404: "404.html"}


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        template = _TEMPLATES.get(exception.status_code, "error.html")
        response = TemplateResponse(request, template, {"exception": exception.message}, status=exception.status_code)
        return response.render()
