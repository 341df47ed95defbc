"""A test double of Django's e-mail backend (outside the project's code): the in-memory backend, except that it
refuses every message to an address listed in the setting ``TEST_EMAIL_REFUSED`` — as an SMTP server does for
a mailbox it does not know."""

import smtplib

from django.conf import settings
from django.core.mail.backends import locmem


class RefusingBackend(locmem.EmailBackend):
    def send_messages(self, messages):
        refused = set(getattr(settings, "TEST_EMAIL_REFUSED", ()))
        for message in messages:
            bad = [address for address in message.recipients() if address in refused]
            if bad:
                raise smtplib.SMTPRecipientsRefused(dict.fromkeys(bad, (550, b"5.1.1 mailbox unavailable")))
        return super().send_messages(messages)
