"""Optimistic locking: the second of two overlapping edits is refused, and nothing is lost."""

import sqlite3

import pytest
from django import forms
from django.db import OperationalError, transaction

from clinic.locking import (
    RecordBusy,
    StaleRecord,
    VersionedFormMixin,
    check_version,
    lock_not_obtained,
    refuse_when_busy,
)
from consultations.models import Client

pytestmark = pytest.mark.django_db


class ClientContactForm(VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = Client
        fields = ["phone", "email"]


def submit(client, version, **data):
    """What a browser posts after showing `client` at `version`."""
    form = ClientContactForm(
        {"phone": client.phone, "email": client.email, "version": version, **data},
        instance=Client.objects.get(pk=client.pk),
    )
    return form


def save(form, user):
    form.instance.stamp(user)
    return form.save()


def test_a_save_based_on_the_current_version_goes_through(make_client, practitioner):
    client = make_client()
    form = submit(client, client.version, phone="020 7946 0001")
    assert form.is_valid(), form.errors
    save(form, practitioner)
    client.refresh_from_db()
    assert (client.phone, client.version) == ("020 7946 0001", 2)


def test_the_second_of_two_edits_is_refused_saying_who_changed_what(
    make_client, practitioner, make_user
):
    client = make_client(phone="07700 900111")
    sam = make_user("sam", first_name="Sam", last_name="Okafor")
    shown = client.version
    first = submit(client, shown, phone="07700 900222")
    assert first.is_valid()
    save(first, sam)

    second = submit(client, shown, email="new@example.com")
    assert not second.is_valid()
    message = second.non_field_errors()[0]
    assert "changed while you were editing" in message
    assert "Sam Okafor" in message
    assert "phone: “07700 900111” → “07700 900222”" in message
    # The refused edit's input is kept, and the first edit stays saved.
    assert second.data["email"] == "new@example.com"
    client.refresh_from_db()
    assert (client.phone, client.email) != ("07700 900222", "new@example.com")
    assert client.phone == "07700 900222"


def test_saving_again_after_the_warning_is_a_deliberate_overwrite(make_client, practitioner):
    client = make_client()
    shown = client.version
    first = submit(client, shown, phone="020 7946 0002")
    assert first.is_valid()
    save(first, practitioner)
    refused = submit(client, shown, email="mine@example.com")
    assert not refused.is_valid()
    again = ClientContactForm(refused.data, instance=Client.objects.get(pk=client.pk))
    assert again.is_valid(), again.errors
    save(again, practitioner)
    client.refresh_from_db()
    assert client.email == "mine@example.com"


def test_a_save_racing_past_the_form_check_is_refused_at_the_row(make_client, practitioner):
    client = make_client()
    with transaction.atomic():
        check_version(Client, client.pk, client.version)
    Client.objects.filter(pk=client.pk).update(version=client.version + 1)
    with pytest.raises(StaleRecord), transaction.atomic():
        check_version(Client, client.pk, client.version)


# A record someone else is saving: a lock not obtained in time --------------------------------


def as_django_raises(driver_error):
    """The error Django raises for `driver_error`: its own OperationalError, caused by it."""
    try:
        raise OperationalError(*driver_error.args) from driver_error
    except OperationalError as error:
        return error


def test_sqlites_busy_database_is_a_lock_not_obtained(tmp_path):
    path = tmp_path / "clinic.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    waiter = sqlite3.connect(path, timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError) as busy:
        waiter.execute("BEGIN IMMEDIATE")
    holder.rollback()

    assert lock_not_obtained(as_django_raises(busy.value))
    assert not lock_not_obtained(as_django_raises(sqlite3.OperationalError("no such table: x")))


def test_a_busy_record_is_a_refusal_and_other_database_errors_go_on():
    busy = sqlite3.OperationalError("database is locked")
    with pytest.raises(RecordBusy) as refused, refuse_when_busy("Someone else is saving."):
        raise as_django_raises(busy)
    assert refused.value.messages == ["Someone else is saving."]

    broken = as_django_raises(sqlite3.OperationalError("disk I/O error"))
    with pytest.raises(OperationalError) as passed_on, refuse_when_busy("Someone else is saving."):
        raise broken
    assert passed_on.value is broken
