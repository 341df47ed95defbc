"""python manage.py export_audit FILE — the whole audit trail, with its hashes, for off-site keeping."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from escalations.models import Event

FIELDS = (
    "id",
    "occurred_at",
    "actor_id",
    "actor_label",
    "verb",
    "flag_id",
    "project_id",
    "indicator_id",
    "from_status",
    "to_status",
    "data",
    "prev_hash",
    "hash",
)


class Command(BaseCommand):
    help = "Write every audit event (JSON Lines, one event per line, in chain order, with hashes) to FILE or '-'."

    def add_arguments(self, parser):
        parser.add_argument("file", help="output path, or - for standard output")

    def handle(self, *args, file: str, **options):
        if file == "-":
            self.write_events(sys.stdout)
            return
        try:
            with Path(file).open("w", encoding="utf-8") as handle:
                count = self.write_events(handle)
        except OSError as error:
            raise CommandError(f"{file}: {error.strerror}") from None
        self.stdout.write(self.style.SUCCESS(f"{count} events written to {file}"))

    def write_events(self, handle) -> int:
        count = 0
        for row in Event.objects.order_by("id").values(*FIELDS).iterator(chunk_size=5000):
            row["actor"] = row.pop("actor_id")
            handle.write(json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
        return count
