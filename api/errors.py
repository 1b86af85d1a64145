"""Every refusal as JSON: 400 with messages keyed by field (the services' own messages), 409
for a stale version with what changed, and DRF's {"detail": ...} for the rest."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from clinic.locking import RecordBusy, describe_changes

NON_FIELD = "non_field_errors"


class Stale(exceptions.APIException):
    """The record was saved since the version the request was based on."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "stale"

    def __init__(self, record, sent_version):
        self.record = record
        self.sent_version = sent_version
        super().__init__(
            f"This record was changed since version {sent_version}: it is now version "
            f"{record.version}. Nothing was saved: read it again, then send your change with "
            "the current version."
        )


def flatten(detail, prefix=""):
    """DRF's nested error detail as {"field": [messages]}, nested fields as "areas.0.depth_mm"."""
    flat = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = NON_FIELD if key == "__all__" else str(key)
            for inner, messages in flatten(value, f"{prefix}{name}.").items():
                flat.setdefault(inner, []).extend(messages)
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        for index, item in enumerate(detail):
            if item:
                for inner, messages in flatten(item, f"{prefix}{index}.").items():
                    flat.setdefault(inner, []).extend(messages)
    else:
        items = detail if isinstance(detail, list) else [detail]
        flat[prefix.rstrip(".") or NON_FIELD] = [str(item) for item in items]
    return flat


def service_errors(error):
    """A service's ValidationError, keyed by field as it raised it ("__all__": non_field_errors)."""
    if hasattr(error, "error_dict"):
        return {
            (NON_FIELD if field == "__all__" else field): messages
            for field, messages in error.message_dict.items()
        }
    return {NON_FIELD: list(error.messages)}


def exception_handler(exc, context):
    if isinstance(exc, Stale):
        return Response(
            {
                "detail": str(exc.detail),
                "current_version": exc.record.version,
                "changes": describe_changes(exc.record, exc.sent_version),
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, RecordBusy):
        return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        return Response(service_errors(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, PermissionDenied) and exc.args:
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        response.data = flatten(response.data)
    return response
