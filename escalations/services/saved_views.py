"""A person's saved views of the triage queue: a name for a query string they use often ("my red overdue").
Their own preference, as their read marks and e-mail choice are: no audit event (the audit trail records
changes to what Percolate measures and decides, and a saved view changes neither)."""

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.http import QueryDict

from core.errors import InvalidInput, NotFound

from ..filters import FlagFilter
from ..models import SavedView

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MAX_VIEWS = 50
NAME_LENGTH = SavedView._meta.get_field("name").max_length or 100
QUERY_LENGTH = SavedView._meta.get_field("query").max_length or 2000


def saved_view_query(query: str) -> str:
    """The part of a queue's query string worth keeping: its filters and sort, in their order, without the page
    number or anything the queue does not read."""
    given = QueryDict(query)
    kept = QueryDict(mutable=True)
    for name in FlagFilter.base_filters:
        values = [value for value in given.getlist(name) if value != ""]
        if values:
            kept.setlist(name, values)
    return kept.urlencode()


def saved_view_save(*, user: "User", name: str, query: str) -> SavedView:
    """Save the queue's ``query`` under ``name`` for ``user``; saving under a name they already use replaces
    that view's query. Safe to repeat. Refuses (``InvalidInput``) an empty or too long name, a query that
    filters nothing, and a view beyond the ``MAX_VIEWS``-th."""
    name = " ".join(name.split())
    kept = saved_view_query(query)
    problems = {}
    if not name:
        problems["name"] = "Give the view a name."
    elif len(name) > NAME_LENGTH:
        problems["name"] = f"At most {NAME_LENGTH} characters."
    if not kept:
        problems["query"] = "Choose some filters or a sort first: this view would show the whole queue."
    elif len(kept) > QUERY_LENGTH:
        problems["query"] = "These filters are too long to save."
    if problems:
        raise InvalidInput(problems)
    with transaction.atomic():
        existing = SavedView.objects.select_for_update().filter(user=user, name=name).first()
        if existing is not None:
            existing.query = kept
            existing.save(update_fields=["query"])
            return existing
        if SavedView.objects.filter(user=user).count() >= MAX_VIEWS:
            raise InvalidInput({"name": f"You have {MAX_VIEWS} saved views already; delete one first."})
        try:
            with transaction.atomic():
                return SavedView.objects.create(user=user, name=name, query=kept)
        except IntegrityError:  # saved by a simultaneous request under the same name: that one stands
            return SavedView.objects.get(user=user, name=name)


def saved_view_delete(*, user: "User", view_id: int) -> None:
    """Delete one of ``user``'s saved views; another person's (or none) is ``NotFound``."""
    deleted, _ = SavedView.objects.filter(user=user, pk=view_id).delete()
    if not deleted:
        raise NotFound("No such saved view.")
