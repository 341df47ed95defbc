"""python manage.py verify_audit — recompute the audit hash chain."""

from django.core.management.base import BaseCommand, CommandError

from escalations.audit_trail import audit_chain_verify
from escalations.models import Event


class Command(BaseCommand):
    help = "Recompute the audit trail's hash chain; exit non-zero naming the first event that does not match."

    def handle(self, *args, **options):
        broken = audit_chain_verify()
        if broken is not None:
            event, problem = broken
            raise CommandError(
                f"audit chain broken at event #{event.pk} "
                f"({event.verb}, {event.occurred_at:%Y-%m-%d %H:%M:%S}): {problem}"
            )
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {Event.objects.count()} events"))
