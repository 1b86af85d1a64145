from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """The managers' read side: recall, outcomes, activity, lots, exports, printouts, charts.

    Nothing imports it: it reads the other apps and owns no models.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = "Reports"
