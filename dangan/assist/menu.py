"""The suspected duplicates in the main menu (see ``dangan.menu``)."""

from django.utils.translation import gettext_lazy as _

from dangan.menu import MenuItem

from .selectors import may_review_duplicates

ITEMS = [
    MenuItem("assist:duplicate-list", _("Suspected duplicates"), may_review_duplicates, order=45)
]
