"""A session's areas, products and ratings move into the session's own audit rows.

Each audit row of a session keeps, in `rows`, the areas, products and ratings the session had
at that version; the three per-row history tables go. Their contents carry over: each version
gets the rows as they stood until the session's next version (a session's rows were always
written right after the session itself), and a session whose rows were never audited row by
row (bulk-generated data) gets its current rows in every version.

Going back recreates the three tables empty: the audit copies stay only in this design.
"""

from django.db import migrations, models

# Kind in `rows` -> (row model, its history model, the fields kept).
KINDS = {
    "areas": ("SessionArea", "HistoricalSessionArea", ("area", "depth_mm")),
    "products": ("SessionProduct", "HistoricalSessionProduct", ("product_id", "lot_number")),
    "progress": (
        "SessionProgress",
        "HistoricalSessionProgress",
        ("recorded_concern_id", "practitioner_rating", "client_rating"),
    ),
}
CHUNK = 2000


def _audited(fields, row):
    kept = {}
    for name in fields:
        value = row[name]
        if name == "depth_mm":
            value = f"{value:.2f}"
        kept[name.removesuffix("_id")] = value
    return kept


def _versions_with_rows(versions, events, current, fields):
    """`rows` for each of a session's versions (oldest first), for one kind of row."""
    if not events:
        rows = [_audited(fields, row) for row in current]
        return [rows for _ in versions]
    result, state, next_event = [], {}, 0
    for n, _version in enumerate(versions):
        until = versions[n + 1]["history_date"] if n + 1 < len(versions) else None
        while next_event < len(events) and (
            until is None or events[next_event]["history_date"] < until
        ):
            event = events[next_event]
            if event["history_type"] == "-":
                state.pop(event["id"], None)
            else:
                state[event["id"]] = _audited(fields, event)
            next_event += 1
        result.append([state[key] for key in sorted(state)])
    return result


def carry_rows_over(apps, schema_editor):
    Version = apps.get_model("treatments", "HistoricalTreatmentSession")
    session_ids = list(Version.objects.order_by().values_list("id", flat=True).distinct())
    for start in range(0, len(session_ids), CHUNK):
        chunk = session_ids[start : start + CHUNK]
        versions = {}
        for version in (
            Version.objects.filter(id__in=chunk)
            .order_by("id", "history_date", "history_id")
            .values("history_id", "id", "history_date")
        ):
            versions.setdefault(version["id"], []).append(version)
        rows = {
            history_id: {}
            for history_id in (v["history_id"] for vs in versions.values() for v in vs)
        }
        for kind, (model_name, history_name, fields) in KINDS.items():
            model = apps.get_model("treatments", model_name)
            history = apps.get_model("treatments", history_name)
            events, current = {}, {}
            for event in (
                history.objects.filter(session_id__in=chunk)
                .order_by("history_date", "history_id")
                .values("id", "session_id", "history_type", "history_date", *fields)
            ):
                events.setdefault(event["session_id"], []).append(event)
            for row in (
                model.objects.filter(session_id__in=chunk)
                .order_by("pk")
                .values("session_id", *fields)
            ):
                current.setdefault(row["session_id"], []).append(row)
            for session_id, session_versions in versions.items():
                kept = _versions_with_rows(
                    session_versions,
                    events.get(session_id, []),
                    current.get(session_id, []),
                    fields,
                )
                for version, version_rows in zip(session_versions, kept, strict=True):
                    rows[version["history_id"]][kind] = version_rows
        Version.objects.bulk_update(
            [Version(history_id=history_id, rows=kept) for history_id, kept in rows.items()],
            ["rows"],
            batch_size=500,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0006_due_index_with_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicaltreatmentsession",
            name="rows",
            field=models.JSONField(
                default=dict, help_text="The rows the record owned at this version."
            ),
        ),
        migrations.RunPython(carry_rows_over, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="historicalsessionproduct", name="history_user"),
        migrations.RemoveField(model_name="historicalsessionproduct", name="product"),
        migrations.RemoveField(model_name="historicalsessionproduct", name="session"),
        migrations.RemoveField(model_name="historicalsessionprogress", name="history_user"),
        migrations.RemoveField(model_name="historicalsessionprogress", name="recorded_concern"),
        migrations.RemoveField(model_name="historicalsessionprogress", name="session"),
        migrations.DeleteModel(name="HistoricalSessionArea"),
        migrations.AlterModelOptions(
            name="sessionarea",
            options={
                "ordering": ["session", "pk"],
                "verbose_name": "area treated",
                "verbose_name_plural": "areas treated",
            },
        ),
        migrations.DeleteModel(name="HistoricalSessionProduct"),
        migrations.DeleteModel(name="HistoricalSessionProgress"),
    ]
