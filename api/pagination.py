from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    """Newest first by id: stable pages however many rows are added meanwhile."""

    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = 100
