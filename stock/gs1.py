"""Reading what a barcode scanner types for a GS1 DataMatrix or GS1-128 label.

A keyboard-wedge scanner types the label's element strings: application identifier (AI) 01 the
GTIN, 10 the lot, 17 the expiry (YYMMDD; day 00 means the month's last day), 21 the serial
number. Variable-length fields end with FNC1, which scanners send as the group separator
(\\x1d); some send the symbology identifier first (]d2 DataMatrix, ]C1 GS1-128); a label's
human-readable line writes the AIs in parentheses. The parsing is biip's, never ours.
"""

import datetime
from dataclasses import dataclass

import biip
from biip.gs1_messages import GS1Message

MAX_SCAN_LENGTH = 200

UNREADABLE = (
    "This scan could not be read as a GS1 label. Scan the pack's DataMatrix (or GS1-128) code "
    "again, or choose the product and lot by hand."
)
TOO_LONG = f"A scan is at most {MAX_SCAN_LENGTH} characters: this is not a pack's label."
NO_GTIN = "The scan has no product number (GTIN, AI 01): scan the pack's DataMatrix code."
BAD_GTIN = "The scanned product number is not a valid GTIN ({error}): scan the code again."
NO_LOT = "The scan has no lot number (AI 10): type the lot number printed on the pack."


class ScanError(ValueError):
    """A scan that cannot fill the form, with a message for the practitioner."""


@dataclass(frozen=True)
class Scan:
    gtin: str  # 14 digits
    lot_number: str
    expiry_date: datetime.date | None
    serial: str


def _message(text):
    """The GS1 message in `text`, parsed by biip (raw or in parentheses)."""
    # Some scanners are set to type the group separator as a visible character: the common
    # stand-ins are left as they are; only the control character itself is the separator.
    if "(" in text:
        try:
            return GS1Message.parse_hri(text)
        except biip.ParseError:
            raise ScanError(UNREADABLE) from None
    result = biip.parse(text)
    if result.gs1_message is None:
        raise ScanError(UNREADABLE)
    return result.gs1_message


def parse_scan(text):
    """A Scan from what the scanner typed; ScanError with a clear message otherwise."""
    text = (text or "").strip()
    # Scanners end a scan with Enter (stripped above); some send a tab or carriage return.
    text = text.replace("\r", "").replace("\n", "").replace("\t", "")
    if not text:
        raise ScanError(UNREADABLE)
    if len(text) > MAX_SCAN_LENGTH:
        raise ScanError(TOO_LONG)
    message = _message(text)
    values = {}
    for element in message.element_strings:
        values.setdefault(element.ai.ai, element)
    gtin_element = values.get("01")
    if gtin_element is None:
        raise ScanError(NO_GTIN)
    if gtin_element.gtin is None:
        raise ScanError(BAD_GTIN.format(error=gtin_element.gtin_error or "unreadable"))
    lot = values.get("10")
    if lot is None or not lot.value.strip():
        raise ScanError(NO_LOT)
    expiry = values.get("17")
    serial = values.get("21")
    return Scan(
        gtin=gtin_element.gtin.as_gtin_14(),
        lot_number=lot.value.strip(),
        expiry_date=expiry.date if expiry is not None else None,
        serial=serial.value if serial is not None else "",
    )
