"""python manage.py export_audit FILE — the whole audit trail, with its hashes, for off-site keeping."""

import json
import sys
from contextlib import nullcontext
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
        try:
            output = nullcontext(sys.stdout) if file == "-" else Path(file).open("w", encoding="utf-8")
        except OSError as error:
            raise CommandError(f"{file}: {error.strerror}") from None
        count = 0
        with output as handle:
            for row in Event.objects.order_by("id").values(*FIELDS).iterator(chunk_size=5000):
                row["actor"] = row.pop("actor_id")
                handle.write(json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True) + "\n")
                count += 1
        if file != "-":
            self.stdout.write(self.style.SUCCESS(f"{count} events written to {file}"))
