"""The domain errors: a change a service refused. Each class carries the HTTP status it answers with, so
the API's exception handler and the pages read the same map (this file), and ``message`` is safe to show
to the user. Whatever raised one wrote nothing."""

from collections.abc import Sequence


class DomainError(Exception):
    """Base class: a refused change (400 unless a subclass says otherwise)."""

    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def as_dict(self) -> dict[str, object]:
        """The body of the API's answer (the pages show ``message``)."""
        return {"detail": self.message}


class InvalidInput(DomainError):
    """Required input is missing or invalid. ``fields`` maps a field name to its problem."""

    def __init__(self, fields: dict[str, str], message: str = ""):
        super().__init__(message or "; ".join(f"{name}: {problem}" for name, problem in fields.items()))
        self.fields = fields

    def as_dict(self) -> dict[str, object]:
        return {"detail": self.message, "fields": {name: [str(problem)] for name, problem in self.fields.items()}}


class ActionForbidden(DomainError):
    """The actor's role or scope does not allow the change."""

    status_code = 403


class NotFound(DomainError):
    """The change names something that does not exist (or that the actor may not see)."""

    status_code = 404


class Conflict(DomainError):
    """The current state does not allow the change (another action came first, a run is under way)."""

    status_code = 409


class TransitionNotAllowed(Conflict):
    """The object's current status does not allow the action; says the status and what is available."""

    def __init__(self, message: str, *, status: str, available: Sequence[str] = ()):
        super().__init__(message)
        self.status = status
        self.available = list(available)

    def as_dict(self) -> dict[str, object]:
        return {"detail": self.message, "status": self.status, "available_actions": self.available}
