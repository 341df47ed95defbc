"""python manage.py merge_indicators SURVIVOR MERGED --as USERNAME"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from escalations.services.indicators import indicator_merge
from indicators.models import Indicator


class Command(BaseCommand):
    help = (
        "Merge the indicator MERGED into SURVIVOR (both by their MMR ID, as imports name them): every value and "
        "revision, case, rule and breakout of MERGED moves to SURVIVOR, whose value stays current where both have "
        "one (the other kept as a revision). Done as the ops lead USERNAME, and recorded in the audit trail."
    )

    def add_arguments(self, parser):
        parser.add_argument("survivor", help="the MMR ID of the indicator that stays")
        parser.add_argument("merged", help="the MMR ID of the indicator merged into it")
        parser.add_argument("--as", dest="username", required=True, help="the ops lead doing it")

    def handle(self, *args, survivor, merged, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f'no user is called "{username}"')
        found = {i.external_id: i for i in Indicator.objects.filter(external_id__in=[survivor, merged])}
        missing = [external_id for external_id in (survivor, merged) if external_id not in found]
        if missing:
            raise CommandError(f"no indicator has the MMR ID {' or '.join(missing)}")
        try:
            kept = indicator_merge(actor=user, survivor=found[survivor], merged=found[merged])
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"{merged} merged into {kept.external_id} {kept.name}")
