"""``flags/``: the scoped list and detail, manual flags, one ``POST flags/{id}/{action}/`` per lifecycle
action, notes, the flag's timeline, and bulk actions.

Each action endpoint is the same three steps: validate the action's input, call the action's service,
return the flag as the user now sees it. Status, role and scope are checked by the service under the row
lock; a refusal becomes 409/403 in the exception handler."""

import keyword

from django.http import QueryDict
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action as viewset_action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from escalations.errors import DomainError
from escalations.lifecycle import TRANSITIONS, Action
from escalations.selectors import flags_visible_to
from escalations.services import ACTION_SERVICES, flag_add_note, flag_raise

from ..csv import CsvExportMixin, CSVRenderer
from ..exceptions import domain_error_payload
from ..filters import FlagFilter
from ..pagination import Pagination
from ..permissions import IsLiaison, IsOpsLead, MayTakeLifecycleAction, ReadOnly, has_role
from ..serializers.common import ConflictSerializer, ValidationErrorSerializer
from ..serializers.flags import (
    ACTION_INPUTS,
    BULK_LIMIT,
    BulkInput,
    BulkResultSerializer,
    EventSerializer,
    FlagRaiseSerializer,
    FlagSerializer,
    NoteInput,
    NoteSerializer,
)

CSV_PARAMETER = OpenApiParameter(
    "format", str, enum=["json", "csv"], description="`csv` exports every row the filters select (not one page)."
)


def lifecycle_endpoint(action: Action):
    """The ``POST flags/{id}/<action>/`` endpoint of one row of the transition table."""
    transition = TRANSITIONS[action]
    roles = sorted({role for roles in transition.allowed.values() for role in roles})
    statuses = ", ".join(transition.allowed)

    def endpoint(self, request, pk=None):
        return self.perform_lifecycle_action(request, action)

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
    return extend_schema(
        summary=f"{action.label} ({action.value})",
        description=(
            f"Allowed from: {statuses}. Roles: {', '.join(roles)}. Leads to: "
            f"{transition.target or 'the same status'}. Answers the flag as it is now."
        ),
        request=ACTION_INPUTS[action],
        responses={200: FlagSerializer, 400: ValidationErrorSerializer, 409: ConflictSerializer},
    )(endpoint)


@extend_schema_view(
    list=extend_schema(summary="Flags in your scope", parameters=[CSV_PARAMETER]),
    retrieve=extend_schema(summary="One flag"),
    create=extend_schema(summary="Raise a flag by hand", request=FlagRaiseSerializer, responses={201: FlagSerializer}),
)
class FlagViewSet(CsvExportMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = FlagSerializer
    permission_classes = [IsAuthenticated & (ReadOnly | IsLiaison | IsOpsLead)]
    filter_backends = [DjangoFilterBackend]
    filterset_class = FlagFilter
    pagination_class = Pagination
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]
    csv_filename = "flags.csv"
    lifecycle_action: Action | None = None  # set per action endpoint, read by MayTakeLifecycleAction

    def get_queryset(self):
        # Newest first by id, which is detection order (a flag is created when it is detected, and
        # detected_at never moves). Ordering by id lets PostgreSQL walk the primary key backwards and join
        # just one page; ordering by detected_at made it join and sort every open flag (200 ms at 100,000).
        return flags_visible_to(self.request.user).order_by("-id")

    def create(self, request):
        serializer = FlagRaiseSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        flag = flag_raise(actor=request.user, **serializer.validated_data)
        return Response(self._present(flag), status=status.HTTP_201_CREATED)

    def _present(self, flag) -> dict:
        """The flag re-read through the user's selector, as every response shows it."""
        return FlagSerializer(self.get_queryset().get(pk=flag.pk), context=self.get_serializer_context()).data

    def perform_lifecycle_action(self, request, action: Action) -> Response:
        flag = self.get_object()
        serializer = ACTION_INPUTS[action](data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        ACTION_SERVICES[action](flag=flag, actor=request.user, **serializer.validated_data)
        return Response(self._present(flag))

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
        flag = self.get_object()
        notes = flag.notes.select_related("author").order_by("created_at", "id")
        return Response(NoteSerializer(notes, many=True).data)

    @extend_schema(
        summary="Add a note",
        request=NoteInput,
        responses={201: NoteSerializer, 400: ValidationErrorSerializer, 409: ConflictSerializer},
    )
    @notes.mapping.post
    def add_note(self, request, pk=None):
        if not has_role(request.user, *set().union(*TRANSITIONS[Action.NOTE].allowed.values())):
            raise PermissionDenied("Your role does not allow adding notes to flags.")
        flag = self.get_object()
        serializer = NoteInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = flag_add_note(flag=flag, actor=request.user, **serializer.validated_data)
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
        flag = self.get_object()
        events = flag.events.select_related("actor").order_by("id")
        return Response(EventSerializer(events, many=True).data)

    @extend_schema(
        summary="One action on many flags",
        description=(
            "Runs each flag through the same service as the single action and reports every outcome. "
            f"`filter` takes the query parameters of `GET flags/` and acts on exactly what that list selects "
            f"(at most {BULK_LIMIT} flags); `ids` names flags directly. The action's input goes alongside."
        ),
        request=BulkInput,
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
        bulk = BulkInput(data=request.data)
        bulk.is_valid(raise_exception=True)
        action = Action(bulk.validated_data["action"])
        if not has_role(request.user, *set().union(*TRANSITIONS[action].allowed.values())):
            raise PermissionDenied(f"Your role does not allow the action “{action.label.lower()}” on flags.")
        extra = {key: value for key, value in request.data.items() if key not in ("action", "ids", "filter")}
        serializer = ACTION_INPUTS[action](data=extra, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        flags, missing = self._bulk_targets(bulk.validated_data)
        matched = len(flags) + len(missing)
        failed = [{"id": pk, "error": "Not found.", "code": 404} for pk in missing]
        succeeded = []
        values = dict(serializer.validated_data)
        for flag in flags:
            try:
                ACTION_SERVICES[action](flag=flag, actor=request.user, **values)
            except DomainError as error:
                code, body = domain_error_payload(error)
                failed.append({"id": flag.pk, "error": body["detail"], "code": code})
                continue
            succeeded.append(flag.pk)
            if action == Action.CONVERT and values.get("title"):
                # The first flag made the new project; the others join it rather than make one each.
                flag.refresh_from_db(fields=["project"])
                values.update(project=flag.project, title="", owner=None, description="")
        failed.sort(key=lambda failure: failure["id"])
        result = {
            "action": action.value,
            "matched": matched,
            "succeeded": len(succeeded),
            "succeeded_ids": succeeded,
            "failed": failed,
        }
        return Response(BulkResultSerializer(result).data)

    def _bulk_targets(self, data: dict) -> tuple[list, list[int]]:
        visible = self.get_queryset()
        if "ids" in data:
            ids = list(dict.fromkeys(data["ids"]))
            found = visible.in_bulk(ids)
            return [found[pk] for pk in ids if pk in found], [pk for pk in ids if pk not in found]
        unknown = sorted(set(data["filter"]) - set(FlagFilter.base_filters))
        if unknown:
            raise ValidationError({"filter": [f"Unknown filter: {name}." for name in unknown]})
        query = QueryDict(mutable=True)
        for key, value in data["filter"].items():
            for item in value if isinstance(value, list) else [value]:
                query.appendlist(key, str(item).lower() if isinstance(item, bool) else str(item))
        filterset = FlagFilter(data=query, queryset=visible, request=self.request)
        if not filterset.is_valid():
            raise ValidationError({"filter": [f"{k}: {' '.join(v)}" for k, v in filterset.errors.items()]})
        flags = filterset.qs
        count = flags.count()
        if count > BULK_LIMIT:
            raise ValidationError(
                {"filter": [f"The filter selects {count} flags; a bulk action takes at most {BULK_LIMIT}."]}
            )
        return list(flags), []
