"""One trigram index for the client search, on PostgreSQL only, instead of 0006's four.

The search reads one text, the names, email and phone joined (`consultations.models.search_text`),
with `icontains`: `UPPER((first_name || ' ' || last_name || ...)::text) LIKE UPPER('%word%')`.
A GIN index of trigrams on exactly that expression answers a word found in few clients at any
table size; a test checks that PostgreSQL matches the search to it. The planner costed the four
per-column indexes, OR-ed together, above reading the whole table, so a rare name was a
sequential scan that grew with the chain. SQLite has no such index: there this does nothing.
"""

from django.db import migrations

SEARCH_TEXT = """("first_name" || ' ' || "last_name" || ' ' || "email" || ' ' || "phone")"""
OLD_COLUMNS = ("first_name", "last_name", "email", "phone")


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS client_search_trgm_idx ON consultations_client "
        f"USING gin ((UPPER(({SEARCH_TEXT})::text)) gin_trgm_ops)"
    )
    for column in OLD_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS client_{column}_trgm_idx")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in OLD_COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS client_{column}_trgm_idx ON consultations_client "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )
    schema_editor.execute("DROP INDEX IF EXISTS client_search_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("consultations", "0006_client_search_trigram")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
