from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _forget_area_chart(**kwargs):
    from catalogue.models import forget_area_chart

    forget_area_chart()


class CatalogueConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "catalogue"
    verbose_name = "Catalogue"

    def ready(self):
        # A migration may change the chart: the cached copy goes with it.
        post_migrate.connect(_forget_area_chart, sender=self)
