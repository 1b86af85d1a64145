"""GS1 scans read with biip, on worked examples of the GS1 General Specifications."""

import datetime

import pytest

from stock.gs1 import BAD_GTIN, NO_GTIN, NO_LOT, UNREADABLE, ScanError, parse_scan

GS = "\x1d"
# The General Specifications' example GTIN (GS1 Global Office prefix 950): 09506000134352.
GTIN = "09506000134352"


@pytest.mark.parametrize(
    "scanned",
    [
        # Fixed-length AIs (01, 17) first: no separator needed; 10 variable-length last.
        f"01{GTIN}17250500" + "10ABC123",
        # Variable-length 10 before fixed 17: FNC1 (the group separator) ends it.
        f"01{GTIN}10ABC123{GS}17250500",
        # The symbology identifiers scanners may prefix: GS1 DataMatrix, GS1-128.
        f"]d201{GTIN}10ABC123{GS}17250500",
        f"]C101{GTIN}10ABC123{GS}17250500",
        # The human-readable form, with parentheses, in any order.
        f"(01){GTIN}(17)250500(10)ABC123",
    ],
)
def test_a_label_gives_gtin_lot_and_expiry_with_day_00_the_last_day_of_the_month(scanned):
    scan = parse_scan(scanned)
    assert scan.gtin == GTIN
    assert scan.lot_number == "ABC123"
    # YYMMDD with day 00: the last day of the month (May 2025 has 31).
    assert scan.expiry_date == datetime.date(2025, 5, 31)


def test_serial_number_ai_21_is_read():
    scan = parse_scan(f"01{GTIN}17261231" + f"10L1{GS}21SN-0042")
    assert (scan.lot_number, scan.serial, scan.expiry_date) == (
        "L1",
        "SN-0042",
        datetime.date(2026, 12, 31),
    )


def test_february_day_00_is_the_28th_or_29th():
    assert parse_scan(f"01{GTIN}17240200" + "10X").expiry_date == datetime.date(2024, 2, 29)
    assert parse_scan(f"01{GTIN}17250200" + "10X").expiry_date == datetime.date(2025, 2, 28)


def test_a_gtin_13_is_kept_as_14_digits():
    # GTIN-13 4006381333931 (its check digit 1) inside AI 01 as 14 digits.
    assert parse_scan("0104006381333931" + "10B2").gtin == "04006381333931"


@pytest.mark.parametrize(
    ("scanned", "message"),
    [
        (f"0109506000134353{GS}10ABC", BAD_GTIN.split(" (")[0]),  # wrong check digit
        ("10ABC123", NO_GTIN),
        (f"01{GTIN}17250500", NO_LOT),
        ("hello", UNREADABLE),
        ("", UNREADABLE),
        (f"01{GTIN}17251331" + "10X", UNREADABLE),  # no 31st of the 13th month
        ("(01)123(10)", UNREADABLE),
        ("x" * 500, "at most"),
        ("\x00\x1b[31m", UNREADABLE),
    ],
)
def test_bad_scans_get_a_clear_message(scanned, message):
    with pytest.raises(ScanError) as refused:
        parse_scan(scanned)
    assert message in str(refused.value)
