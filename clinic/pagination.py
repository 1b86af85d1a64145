"""Pagination that does not count a huge list to its end.

Counting is what makes a list's cost grow with its table: the page itself reads a page of rows
through an index, but a count (and so "page 1 of N") reads every match. These paginators count at
most `cap` + 1 rows (`SELECT COUNT(*) FROM (SELECT id ... LIMIT cap + 1)`) and say "more than
cap" past that; the pages up to the cap stay reachable, and a search or filter narrows the rest.
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedCountPaginator(Paginator):
    """Counts at most `cap` + 1 rows: a filtered list of a million sessions stops early."""

    cap = 10_000

    @cached_property
    def count(self):
        # Only the keys, unsorted: neither the list's annotations nor its order change a count.
        return self.object_list.order_by().values("pk")[: self.cap + 1].count()

    @property
    def capped(self):
        """Whether there are more rows than were counted."""
        return self.count > self.cap


class ShortCountPaginator(CappedCountPaginator):
    """For searched lists and daily worklists. A common word ("smith") matches a share of the
    whole table, as "overdue" does in a chain's ten years of courses, and every match counted is
    a row read; past 250 rows (ten pages of the workspace, five of the admin) the list wants
    narrowing, not counting, so the count stops there and costs what a few pages cost."""

    cap = 250


class WorklistPaginator(ShortCountPaginator):
    """ShortCountPaginator for a worklist whose order an index serves (Today's due courses by due
    date): the count walks the list in its own order and stops after `cap` + 1 rows. Unsorted, the
    database would find every match first (all the overdue courses of a chain) to count 251."""

    @cached_property
    def count(self):
        return self.object_list.values("pk")[: self.cap + 1].count()
