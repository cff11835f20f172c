"""Appraisal in the main menu (see ``dangan.menu``)."""

from django.utils.translation import gettext_lazy as _

from dangan.menu import MenuItem

from .selectors import may_appraise

ITEMS = [MenuItem("appraisal:overview", _("Appraisal"), may_appraise, order=70)]
