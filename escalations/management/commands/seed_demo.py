"""python manage.py seed_demo — the real NYC data and the demo accounts (password ``demo``). Idempotent."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.permissions import Role
from escalations.models import EmailMode
from escalations.services.notifications import notification_preference_set
from indicators.services import ImportRejected, import_file, role_grant

DEMO_FILE = Path(settings.BASE_DIR) / "indicators" / "data" / "nyc-pmmr-fy2023-indicators.csv"
DEMO_PASSWORD = "demo"  # noqa: S105 (the demo accounts; refused outside local and test settings)
# username, role, first and last name, scope
DEMO_ACCOUNTS = [
    ("admin", Role.ADMIN, "Ada", "Admin", {}),
    ("lead", Role.OPS_LEAD, "Lee", "Lead", {}),
    ("liaison", Role.LIAISON, "Lia", "Liaison", {"agencies": ["DSNY", "DOT"]}),
    ("deputy", Role.DEPUTY_MAYOR, "Dee", "Deputy", {"portfolios": ["OPS"]}),
    ("pm", Role.PROJECT_MANAGER, "Pat", "Manager", {}),
    ("auditor", Role.AUDITOR, "Audrey", "Auditor", {}),
]


class Command(BaseCommand):
    help = "Load the shipped NYC data and create the demo accounts (never under production settings)."

    def handle(self, *args, **options):
        if not getattr(settings, "PERCOLATE_DEMO_ALLOWED", False):
            raise CommandError(
                "seed_demo refuses to run here: demo accounts with a known password are for local use only"
            )
        try:
            outcome = import_file(file_name=DEMO_FILE.name, content=DEMO_FILE.read_bytes())
        except ImportRejected as rejected:
            raise CommandError(f"the demo data did not import: {rejected.errors[0]}") from None
        self.stdout.write(
            f"data: {DEMO_FILE.name} "
            + ("already imported" if outcome.duplicate_of else f"imported (batch #{outcome.batch.pk})")
        )
        User = get_user_model()
        for username, role, first, last, scope in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "email": f"{username}@percolate.example"},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
            if role == Role.ADMIN:
                user.is_staff = user.is_superuser = True
            user.save()
            role_grant(username=username, role=role, **scope)
            if created:  # one daily digest, so the demo's first check does not print a hundred e-mails
                notification_preference_set(user=user, email_mode=EmailMode.DIGEST)
            where = ", ".join(scope.get("agencies", []) + scope.get("portfolios", []))
            self.stdout.write(f"  {username:<8} / {DEMO_PASSWORD}  {role.label}" + (f" ({where})" if where else ""))
