from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "indicators"
    verbose_name = "Indicators"

    def ready(self) -> None:
        from .detection import dialect

        # SQLite needs the detection query's exact-sum functions on every new connection.
        dialect.install()
