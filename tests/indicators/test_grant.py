import pytest
from django.core.management import CommandError, call_command

from core.permissions import roles_of

from ..factories import UserFactory

pytestmark = pytest.mark.django_db


def test_grant_gives_role_and_scope(capsys):
    user = UserFactory(username="maria")
    call_command("grant", "maria", "liaison", "--agency", "DSNY", "--agency", "Department of Transportation")
    call_command("grant", "maria", "deputy_mayor", "--portfolio", "OPS")
    assert roles_of(user) == {"liaison", "deputy_mayor"}
    assert sorted(user.agencies.values_list("code", flat=True)) == ["DOT", "DSNY"]
    assert list(user.portfolios.values_list("code", flat=True)) == ["OPS"]
    assert "maria: liaison for DSNY, Department of Transportation" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody", "liaison"], "unknown user: nobody"),
        (["maria", "liaison", "--agency", "NOPE"], "unknown agency: NOPE"),
        (["maria", "deputy_mayor", "--portfolio", "XX"], "unknown portfolio: XX"),
    ],
)
def test_grant_creates_nothing_silently(args, message):
    user = UserFactory(username="maria")
    with pytest.raises(CommandError, match=message):
        call_command("grant", *args)
    assert not user.groups.exists() and not user.agencies.exists()
