from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API, its tokens, and the FHIR export: through the same services as the pages.

    Above reports and below devtools: it reads and writes every clinical app, nothing imports it.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = "API"
