"""The audit trail's records: simple-history's, with the rows a record owns kept in its own audit
rows where the model asks for it."""

from django.db import models
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record


class AuditTrail(HistoricalRecords):
    """simple-history's HistoricalRecords: every audited model's `history`.

    A model with an `audited_rows()` method owns rows that have no trail of their own (a
    session's areas, products and ratings): each of its audit rows keeps what `audited_rows()`
    returns in the JSON field `rows`. A record and its rows then make one version, written in
    one insert, and a version's changes include its rows' (see `changes_to_rows`).
    """

    def get_meta_options(self, model):
        """A model that moved to another app keeps its table (`Meta.db_table`, "<old app>_<model>"),
        and its audit rows keep theirs: "<old app>_historical<model>"."""
        options = super().get_meta_options(model)
        table = model._meta.original_attrs.get("db_table")
        if table and not self.table_name:
            app_prefix = table.removesuffix(f"_{model._meta.model_name}")
            options["db_table"] = f"{app_prefix}_historical{model._meta.model_name}"
        return options

    def get_extra_fields(self, model, fields):
        extra = super().get_extra_fields(model, fields)
        if hasattr(model, "audited_rows"):
            extra["rows"] = models.JSONField(
                default=dict, help_text="The rows the record owned at this version."
            )
        return extra

    def create_history_model(self, model, inherited):
        history_model = super().create_history_model(model, inherited)
        if hasattr(model, "audited_rows"):
            pre_create_historical_record.connect(_keep_rows, sender=history_model, weak=False)
        return history_model


def _keep_rows(sender, instance, history_instance, **kwargs):
    history_instance.rows = instance.audited_rows()


def changes_to_rows(model, pairs):
    """What each (older, newer) pair of `model`'s audit rows changed in the rows it owns:
    a list of (label, old, new) texts per pair; empty lists for a model that owns none."""
    if not hasattr(model, "audited_rows"):
        return [[] for _ in pairs]
    return model.describe_row_changes([(older.rows, newer.rows) for older, newer in pairs])
