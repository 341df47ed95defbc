"""Domain errors raised by the services. One exception handler maps them to HTTP (409, 403, 400) and the
pages show their message inline; whatever raised them wrote nothing."""


class DomainError(Exception):
    """Base class: a refused change. ``message`` is safe to show to the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class TransitionNotAllowed(DomainError):
    """The object's current status does not allow the action."""

    def __init__(self, message: str, *, status: str, available: list[str] | tuple[str, ...] = ()):
        super().__init__(message)
        self.status = status
        self.available = list(available)


class ActionForbidden(DomainError):
    """The actor's role or scope does not allow the action."""


class InvalidInput(DomainError):
    """Required input is missing or invalid. ``fields`` maps a field name to its problems."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{name}: {problem}" for name, problem in fields.items()))
        self.fields = fields
