"""Paging of API lists: by cursor (keyset), so that a page deep in a million records answers as
fast as the first; ``?limit=`` and ``?offset=`` are still understood, bounded, for clients
written before cursors.

The answer keeps its shape (``count``, ``next``, ``previous``, ``results``); ``next`` and
``previous`` are links with a ``cursor`` that continues after (before) the page's last (first)
row in the list's order — DRF's ``CursorPagination`` idea, with the whole order as the key
(``dangan.core.keyset``) rather than its first field and an offset within ties, so a list sorted
by year pages as fast as one sorted by id, and rows added meanwhile neither repeat nor vanish.
"""

from django.db.models import QuerySet
from django.template import loader
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.utils.urls import remove_query_param, replace_query_param

from dangan.core import keyset

#: An offset past this is past any list we hold (and past what a database integer takes).
MAX_OFFSET = 2**31 - 1


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 1000

    def get_offset(self, request):
        return min(super().get_offset(request), MAX_OFFSET)


class KeysetPagination(BoundedLimitOffsetPagination):
    """Pages by ``?cursor=`` (the links of ``next`` and ``previous``); by ``?offset=`` when the
    request names one, or when the list is not ordered by plain fields."""

    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset, request, view=None):
        self.page = None
        # A view whose list may hold a million rows counts it its own way (kept a while, as the
        # record list's page does): ``count_rows(queryset)``; else every page counts it anew.
        self.count_rows = getattr(view, "count_rows", None)
        if self.offset_query_param in request.query_params or not isinstance(queryset, QuerySet):
            return super().paginate_queryset(queryset, request, view)
        try:
            keyset.order_of(queryset)
        except ValueError:  # ordered by an expression: no key to continue from
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        self.limit = self.get_limit(request)
        try:
            self.page = keyset.page(
                queryset,
                size=self.limit,
                cursor=request.query_params.get(self.cursor_query_param) or None,
            )
        except keyset.BadCursor:
            raise ValidationError(
                {self.cursor_query_param: [_("This cursor is not one of this list's links.")]}
            ) from None
        self.count = self.get_count(queryset.order_by())
        return self.page.rows

    def get_count(self, queryset):
        if getattr(self, "count_rows", None) is not None:
            return self.count_rows(queryset)
        return super().get_count(queryset)

    def get_next_link(self):
        if self.page is None:
            return super().get_next_link()
        return self._link(self.page.next)

    def get_previous_link(self):
        if self.page is None:
            return super().get_previous_link()
        return self._link(self.page.previous)

    def _link(self, cursor):
        if cursor is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.offset_query_param)
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The page a `next` or `previous` link points at.",
                "schema": {"type": "string"},
            },
        ]

    def to_html(self):  # the browsable API's pager
        if self.page is None:
            return super().to_html()
        template = loader.get_template("rest_framework/pagination/previous_and_next.html")
        return template.render(
            {"previous_url": self.get_previous_link(), "next_url": self.get_next_link()}
        )
