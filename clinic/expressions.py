"""Database expressions the ORM lacks on both of our databases."""

from django.db.models import Aggregate, JSONField


class JSONList(Aggregate):
    """The values of an expression over the rows aggregated, as one JSON array read back as a
    Python list: jsonb_agg on PostgreSQL, json_group_array on SQLite. The items come in no set
    order: give each the key to sort by. Over no rows, SQL's NULL (None)."""

    function = "JSONB_AGG"
    output_field = JSONField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra_context)
