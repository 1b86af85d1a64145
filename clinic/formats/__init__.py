"""The clinic's one way of writing dates, for pages, messages, exports and printouts alike.

Templates use `{{ value|date }}` (DATE_FORMAT: "6 Dec 2026") and
`{{ value|date:"DATETIME_FORMAT" }}`;
Python text uses `day()` and `moment()` below, which read the same settings
(FORMAT_MODULE_PATH points Django at clinic/formats/en_GB/formats.py).
"""

import datetime

from django.utils import timezone
from django.utils.formats import date_format


def day(value):
    """`value` (a date, or an aware datetime's day in the clinic's time zone) as the clinic
    writes it: "6 Dec 2026"."""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value)


def moment(value):
    """`value` (an aware datetime) in the clinic's time zone: "6 Dec 2026, 14:05"."""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, "DATETIME_FORMAT")
