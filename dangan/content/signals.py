"""Signals of the content app, so that later steps (reading the pages) need no import back."""

from django.dispatch import Signal

#: Sent inside the transaction that records new original pages: ``pages`` (saved), ``actor``.
pages_added = Signal()
