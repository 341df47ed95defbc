"""python manage.py grant USERNAME ROLE [--agency NAME_OR_CODE …] [--portfolio CODE …]"""

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from core.permissions import Role
from indicators.services import role_grant


class Command(BaseCommand):
    help = "Give an existing user a role and its scope (agencies for liaisons, portfolios for deputy mayors)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", choices=Role.values)
        parser.add_argument("--agency", action="append", default=[], help="agency code or name (repeatable)")
        parser.add_argument("--portfolio", action="append", default=[], help="portfolio code (repeatable)")

    def handle(self, *args, username, role, agency, portfolio, **options):
        try:
            role_grant(username=username, role=role, agencies=agency, portfolios=portfolio)
        except DomainError as error:
            raise CommandError(error.message) from None
        scope = [*agency, *portfolio]
        self.stdout.write(f"{username}: {role}" + (f" for {', '.join(scope)}" if scope else ""))
