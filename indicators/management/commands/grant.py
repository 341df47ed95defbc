"""python manage.py grant USERNAME ROLE [--agency NAME_OR_CODE …] [--portfolio CODE …] [--revoke]"""

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from core.permissions import Role
from indicators.services import role_grant, role_revoke


class Command(BaseCommand):
    help = (
        "Give an existing user a role and its scope (agencies for liaisons, portfolios for deputy mayors), or "
        "with --revoke take it back (only the named agencies or portfolios when some are named). Each change "
        "is recorded in the audit trail."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", choices=Role.values)
        parser.add_argument("--agency", action="append", default=[], help="agency code, name or alias (repeatable)")
        parser.add_argument("--portfolio", action="append", default=[], help="portfolio code (repeatable)")
        parser.add_argument("--revoke", action="store_true", help="take the role (or the named scope) back")

    def handle(self, *args, username, role, agency, portfolio, revoke, **options):
        service = role_revoke if revoke else role_grant
        try:
            service(username=username, role=role, agencies=agency, portfolios=portfolio)
        except DomainError as error:
            raise CommandError(error.message) from None
        scope = [*agency, *portfolio]
        what = f"{role}" + (f" for {', '.join(scope)}" if scope else "")
        self.stdout.write(f"{username}: {what} revoked" if revoke else f"{username}: {what}")
