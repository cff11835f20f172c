"""The main menu, built from what the user may do.

Each app that has pages declares its menu items in its own ``menu.py``::

    ITEMS = [MenuItem("stacks:room-list", _("Stacks"), may_keep_stacks, order=60)]

where ``may_keep_stacks(user)`` is the very function the app's views use to let the user in
(or refuse with 403). So the menu never shows an item that answers 403, and never hides one the
user may open: there is one rule per page, not a second list of roles. A county's own roles
(issue #30) change those functions, and the menu follows by itself.

This is a plain module beside the apps (like ``dangan/pdf.py``): it finds the apps' ``menu``
modules the way the admin finds ``admin`` modules (``autodiscover_modules``), and imports none.
"""

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.module_loading import autodiscover_modules


@dataclass(frozen=True)
class MenuItem:
    url_name: str
    label: str
    #: The predicate the item's view uses: ``allowed(user) -> bool``.
    allowed: Callable
    #: Place in the menu, smaller first: the work of the day, then keeping, then overseeing.
    order: int = 100

    @property
    def url(self) -> str:
        return _path(self.url_name, get_script_prefix(), get_urlconf())


@functools.cache
def _path(url_name: str, _prefix: str, _urlconf) -> str:
    """``reverse(url_name)``, once per deployment's prefix: the menu is drawn on every page."""
    return reverse(url_name)


_items: list[MenuItem] | None = None


def all_items() -> list[MenuItem]:
    """Every app's menu items, in menu order."""
    global _items
    if _items is None:
        autodiscover_modules("menu")
        found = []
        for config in apps.get_app_configs():
            module = sys.modules.get(f"{config.name}.menu")
            found += getattr(module, "ITEMS", [])
        _items = sorted(found, key=lambda item: item.order)
    return _items


def items_for(user) -> list[MenuItem]:
    """The menu items ``user`` may open."""
    if user is None or not user.is_authenticated:
        return []
    return [item for item in all_items() if item.allowed(user)]


def menu(request):
    """Context processor: ``menu``, the items the request's user may open (computed on use)."""
    return {"menu": SimpleLazyObject(lambda: items_for(getattr(request, "user", None)))}
