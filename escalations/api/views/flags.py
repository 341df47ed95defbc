"""``flags/``: the scoped list and detail, manual flags, one ``POST flags/{id}/{action}/`` per lifecycle
action, notes, the flag's timeline, and bulk actions.

Each action endpoint is the same three steps: validate the action's input, call the action's service,
return the flag as the user now sees it. Status, role and scope are checked by the service under the row
lock; a refusal becomes 409/403 in the exception handler."""

import keyword

from django.http import QueryDict
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action as viewset_action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from core.permissions import Capability
from escalations import selectors
from escalations.access import may_ever
from escalations.filters import FlagFilter
from escalations.lifecycle import TRANSITIONS, Action
from escalations.services import ACTION_SERVICES, BulkOutcome, flag_raise, flags_bulk_act

from ..csv import CsvExportMixin, CSVRenderer
from ..filtering import FilterBackend
from ..pagination import Pagination
from ..permissions import Allows, MayTakeLifecycleAction, ReadOnly
from ..serializers.common import ConflictSerializer, ValidationErrorSerializer
from ..serializers.flags import (
    ACTION_INPUTS,
    BULK_INPUTS,
    BulkResultSerializer,
    EventSerializer,
    FlagRaiseSerializer,
    FlagSerializer,
    NoteSerializer,
)

CSV_PARAMETER = OpenApiParameter(
    "format", str, enum=["json", "csv"], description="`csv` exports every row the filters select (not one page)."
)


def lifecycle_endpoint(action: Action):
    """The ``POST flags/{id}/<action>/`` endpoint of one row of the transition table."""
    transition = TRANSITIONS[action]
    statuses = ", ".join(transition.allowed)

    def endpoint(self, request, pk=None):
        self.perform_lifecycle_action(request, action)
        return Response(self._present(self.get_object()))

    # The attribute name on the viewset: the action's name ("return" is a Python keyword).
    endpoint.__name__ = f"{action.value}_" if keyword.iskeyword(action.value) else action.value
    endpoint.__doc__ = f"{action.label}: POST flags/{{id}}/{action.value}/."
    endpoint = viewset_action(
        detail=True,
        methods=["post"],
        url_path=action.value,
        url_name=action.value.replace("_", "-"),
        permission_classes=[IsAuthenticated & MayTakeLifecycleAction],
        lifecycle_action=action,
    )(endpoint)
    alias = " An alias of `POST flags/{id}/notes/` that answers the flag." if action == Action.NOTE else ""
    return extend_schema(
        summary=f"{action.label} ({action.value})",
        description=(
            f"Allowed from: {statuses}. Roles: {', '.join(sorted(transition.roles))}. Leads to: "
            f"{transition.target or 'the same status'}. Answers the flag as it is now.{alias}"
        ),
        request=ACTION_INPUTS[action],
        responses={200: FlagSerializer, 400: ValidationErrorSerializer, 409: ConflictSerializer},
        deprecated=action == Action.NOTE,
    )(endpoint)


@extend_schema_view(
    list=extend_schema(summary="Flags in your scope", parameters=[CSV_PARAMETER]),
    retrieve=extend_schema(summary="One flag"),
    create=extend_schema(summary="Raise a flag by hand", request=FlagRaiseSerializer, responses={201: FlagSerializer}),
)
class FlagViewSet(CsvExportMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = FlagSerializer
    permission_classes = [IsAuthenticated & (ReadOnly | Allows(Capability.RAISE_FLAGS))]
    filter_backends = [FilterBackend]
    filterset_class = FlagFilter
    pagination_class = Pagination
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]
    csv_filename = "flags.csv"
    lifecycle_action: Action | None = None  # set per action endpoint, read by MayTakeLifecycleAction

    def get_queryset(self):
        # Ordered by ``FlagFilter`` (the page's filter too): newest case first unless ``ordering`` says.
        return selectors.flags_visible_to(self.request.user)

    def create(self, request):
        serializer = FlagRaiseSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        flag = flag_raise(actor=request.user, **serializer.validated_data)
        return Response(self._present(flag), status=status.HTTP_201_CREATED)

    def _present(self, flag) -> dict:
        """The flag re-read through the user's selector, as every response shows it."""
        return FlagSerializer(self.get_queryset().get(pk=flag.pk), context=self.get_serializer_context()).data

    def perform_lifecycle_action(self, request, action: Action):
        """Validate the action's input and call its service; returns what the service returns."""
        flag = self.get_object()
        serializer = ACTION_INPUTS[action](data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return ACTION_SERVICES[action](flag=flag, actor=request.user, **serializer.validated_data)

    review = lifecycle_endpoint(Action.REVIEW)
    assign = lifecycle_endpoint(Action.ASSIGN)
    set_severity = lifecycle_endpoint(Action.SET_SEVERITY)
    monitor = lifecycle_endpoint(Action.MONITOR)
    resume = lifecycle_endpoint(Action.RESUME)
    dismiss = lifecycle_endpoint(Action.DISMISS)
    escalate = lifecycle_endpoint(Action.ESCALATE)
    return_ = lifecycle_endpoint(Action.RETURN)
    delegate = lifecycle_endpoint(Action.DELEGATE)
    convert = lifecycle_endpoint(Action.CONVERT)
    resolve = lifecycle_endpoint(Action.RESOLVE)
    reopen = lifecycle_endpoint(Action.REOPEN)
    note = lifecycle_endpoint(Action.NOTE)

    @extend_schema(summary="The flag's notes", responses={200: NoteSerializer(many=True)})
    @viewset_action(
        detail=True,
        methods=["get"],
        url_path="notes",
        permission_classes=[IsAuthenticated],
        pagination_class=None,
        filterset_class=None,
    )
    def notes(self, request, pk=None):
        return Response(NoteSerializer(selectors.notes_of_flag(self.get_object()), many=True).data)

    @extend_schema(
        summary="Add a note",
        request=ACTION_INPUTS[Action.NOTE],
        responses={201: NoteSerializer, 400: ValidationErrorSerializer, 409: ConflictSerializer},
    )
    @notes.mapping.post
    def add_note(self, request, pk=None):
        if not may_ever(request.user, Action.NOTE):
            raise PermissionDenied(MayTakeLifecycleAction.message)
        note = self.perform_lifecycle_action(request, Action.NOTE)
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="The flag's timeline", responses={200: EventSerializer(many=True)})
    @viewset_action(
        detail=True,
        methods=["get"],
        url_path="events",
        permission_classes=[IsAuthenticated],
        pagination_class=None,
        filterset_class=None,
    )
    def events(self, request, pk=None):
        return Response(EventSerializer(selectors.events_of_flag(self.get_object()), many=True).data)

    @extend_schema(
        summary="One action on many flags",
        description=(
            "Runs each flag through the same service as the single action and reports every outcome. The "
            "action's own input goes alongside `action`, as for the single action. The flags: `ids`, or "
            "`filter` — the query parameters of `GET flags/` as an object, acting on exactly what that list "
            "selects (at most 1000 flags) — or both (the named flags the filter selects); neither names none."
        ),
        request=PolymorphicProxySerializer(
            component_name="BulkRequest",
            serializers=list(BULK_INPUTS.values()),
            resource_type_field_name=None,
        ),
        responses={200: BulkResultSerializer},
    )
    @viewset_action(
        detail=False,
        methods=["post"],
        url_path="bulk",
        permission_classes=[IsAuthenticated],
        filterset_class=None,
        pagination_class=None,
    )
    def bulk(self, request):
        action = request.data.get("action") if isinstance(request.data, dict) else None
        if action not in Action.values:
            raise ValidationError({"action": [f"One of {', '.join(Action.values)}."]})
        action = Action(action)
        serializer = BULK_INPUTS[action](data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        values.pop("action")
        ids, conditions = values.pop("ids", None), values.pop("filter", None)
        selection = self._filtered(conditions) if conditions is not None else None
        if ids is None and selection is None:
            ids = []  # no flag named: nothing done
        outcome = flags_bulk_act(actor=request.user, action=action, inputs=values, ids=ids, selection=selection)
        return Response(BulkResultSerializer(_bulk_result(outcome)).data)

    def _filtered(self, conditions: dict):
        """The flags ``GET flags/`` lists with these query parameters (given as a JSON object)."""
        query = QueryDict(mutable=True)
        for key, value in conditions.items():
            for item in value if isinstance(value, list) else [value]:
                query.appendlist(key, str(item).lower() if isinstance(item, bool) else str(item))
        filterset = FlagFilter(data=query, queryset=self.get_queryset(), request=self.request)
        if not filterset.is_valid():
            raise ValidationError({"filter": [f"{k}: {' '.join(v)}" for k, v in filterset.errors.items()]})
        return filterset.qs


def _bulk_result(outcome: BulkOutcome) -> dict:
    return {
        "action": outcome.action.value,
        "matched": outcome.matched,
        "succeeded": len(outcome.succeeded),
        "succeeded_ids": outcome.succeeded,
        "failed": [{"id": pk, "error": error.message, "code": error.status_code} for pk, error in outcome.failed],
    }
