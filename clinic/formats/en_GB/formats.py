"""The clinic's date formats (British English), over Django's own en_GB ones: one day written
one way everywhere, "6 Dec 2026", never "06/12/2026" or "03 Jan". Date inputs are the browser's
date pickers (type=date), which send ISO dates, also accepted typed."""

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # '2026-12-06': what a date picker sends
    "%d/%m/%Y",  # '06/12/2026'
    "%d/%m/%y",  # '06/12/26'
    "%d %b %Y",  # '6 Dec 2026'
    "%d %B %Y",  # '6 December 2026'
]
FIRST_DAY_OF_WEEK = 1  # Monday
