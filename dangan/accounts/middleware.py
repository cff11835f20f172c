"""Reads a request may share: a GET request changes no rights, so the user's grants and the
tree of units are read once for it (``selectors.read_once``), not once per selector."""

from .selectors import read_once


class ReadRightsOnceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        with read_once():
            return self.get_response(request)
