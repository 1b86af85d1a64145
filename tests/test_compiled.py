"""clinic.expressions.compiled: a query compiled once, run with another value each time."""

import datetime

import pytest

from clinic.expressions import compiled
from consultations.models import Client

MARKER = -1


@pytest.mark.django_db
def test_a_compiled_query_runs_with_each_value_as_the_orm_would(make_client):
    kept, archived = make_client(first_name="Kept"), make_client(first_name="Gone")
    archived.archived = True
    archived.save()
    born = {"date_of_birth__gte": datetime.date(1900, 1, 1)}
    query = compiled(Client.objects.filter(archived=False, pk=MARKER, **born), MARKER)

    assert len(query.params) > 1  # the marker is not the only parameter
    for client in (kept, archived):
        found = list(Client.objects.raw(query.sql, query.params_with(client.pk)))
        assert found == list(Client.objects.filter(archived=False, pk=client.pk, **born))
    assert query.params_with(kept.pk).count(kept.pk) == 1
