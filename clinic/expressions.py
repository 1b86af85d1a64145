"""Database expressions the ORM lacks on both of our databases, and SQL compiled once."""

from typing import NamedTuple

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


class CompiledOnce(NamedTuple):
    """A query's SQL and parameters, with where its one varying value goes (compiled()). For
    queries every page runs, whose compiling by the ORM costs more than running them."""

    sql: str
    params: tuple
    at: int

    def params_with(self, value):
        """The parameters, with `value` where the marker stood."""
        return [value if n == self.at else param for n, param in enumerate(self.params)]


def compiled(queryset, marker):
    """`queryset`, filtered on `marker` (a value no row holds), compiled on its database, for
    the caller to keep (functools.cache) and run with `params_with(value)`."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    return CompiledOnce(sql, tuple(params), list(params).index(marker))
