"""Database expressions the ORM lacks on both of our databases."""

from django.db.models import Aggregate, JSONField, OuterRef, Subquery
from django.db.models.functions import JSONArray


class JSONList(Aggregate):
    """The values of an expression over the rows aggregated, as one JSON array read back as a
    Python list: jsonb_agg on PostgreSQL, json_group_array on SQLite. The items come in no set
    order: give each the key to sort by. Over no rows, SQL's NULL (None)."""

    function = "JSONB_AGG"
    output_field = JSONField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra_context)


def json_rows(model, parent, *fields):
    """A subquery annotating each row of a query with its own rows of `model` (those whose
    foreign key `parent` points at it), each as a JSON array of `fields`, all in one list, or
    None when it has none. A list page reads a row's few children this way in its own query:
    no second query, no object made for each child."""
    rows = model.objects.filter(**{parent: OuterRef("pk")}).order_by().values(parent)
    return Subquery(rows.values(rows=JSONList(JSONArray(*fields))))
