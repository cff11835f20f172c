"""Paging of API lists: ``?limit=`` and ``?offset=`` as DRF's LimitOffsetPagination reads them,
bounded, so that a limit or offset of thirty digits is a short page, not a database error."""

from rest_framework.pagination import LimitOffsetPagination

#: An offset past this is past any list we hold (and past what a database integer takes).
MAX_OFFSET = 2**31 - 1


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 1000

    def get_offset(self, request):
        return min(super().get_offset(request), MAX_OFFSET)
