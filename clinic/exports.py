"""Spreadsheet-safe exports: a cell is text a spreadsheet shows, never a formula it runs.

A value beginning with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by
Excel, LibreOffice and Google Sheets (OWASP "CSV injection"). Such text gets a leading apostrophe,
the mark spreadsheets read as "this is text", and is otherwise kept as it was; numbers stay
numbers. Every CSV and Excel export goes through `formula_safe` (the reports' CSV files) or
`FormulaSafeResource` (the admin's exports through django-import-export).
"""

import re

from import_export import resources

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain number such as "-2" or "-0.5" is data, not a formula: kept as it is.
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def formula_safe(value):
    """`value`, or for text that a spreadsheet would run, the same text marked as text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(value):
        return f"'{value}"
    return value


class FormulaSafeResource(resources.ModelResource):
    """A django-import-export resource whose every exported cell is `formula_safe`.

    The library's own escaping (IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT) only strips a leading
    "=", which both changes real values and leaves "+", "-" and "@" formulas live: it stays off.
    """

    def export_field(self, field, instance, **kwargs):
        return formula_safe(super().export_field(field, instance, **kwargs))
