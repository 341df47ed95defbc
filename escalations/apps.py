from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "escalations"
    verbose_name = "Escalations"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from core.audit import changed

        from .services.events import change_record, signin_lockout_record

        # The indicators app's changes reach the audit trail through this receiver (it may not import us).
        changed.connect(change_record, dispatch_uid="escalations.change_record")

        def locked_out(sender, *, username=None, ip_address=None, **kwargs):
            signin_lockout_record(username=username or "", ip_address=ip_address)

        user_locked_out.connect(locked_out, weak=False, dispatch_uid="escalations.signin_lockout")
