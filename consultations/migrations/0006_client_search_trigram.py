"""Trigram indexes for the client search, on PostgreSQL only.

The search matches any part of a name, e-mail or phone (`icontains`, which PostgreSQL runs as
`UPPER(column::text) LIKE UPPER('%word%')`). A B-tree cannot serve a pattern with a leading
wildcard, so without these indexes every search reads the whole client table. A GIN index of
trigrams on the same `UPPER(...)` expression serves it at any table size. SQLite has no such
index: there the operation does nothing (its search reads the table, fast enough for one clinic).
"""

from django.db import migrations

COLUMNS = ("first_name", "last_name", "email", "phone")


def index_name(column):
    return f"client_{column}_trgm_idx"


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {index_name(column)} ON consultations_client "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index_name(column)}")


class Migration(migrations.Migration):
    dependencies = [("consultations", "0005_photo_access")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
