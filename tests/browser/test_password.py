"""A liaison changes their password from the header's link, and signs in with the new one."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_liaison_changes_their_password(session, liaison):
    browser = session()
    browser.sign_in("liaison", "pw")
    page = browser.page
    page.click("text=Change password")
    page.fill("#id_old_password", "pw")
    page.fill("#id_new_password1", "a-much-longer-passphrase-42")
    page.fill("#id_new_password2", "a-much-longer-passphrase-42")
    page.click("main button[type=submit]")
    assert "Password changed" in page.inner_text(".messages")
    browser.sign_out()
    browser.sign_in("liaison", "a-much-longer-passphrase-42")
    assert page.inner_text("[data-testid=user-name]")
    assert browser.csp_violations == [] and browser.external == []
