from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "dangan.accounts"
    label = "accounts"
    verbose_name = _("Accounts and rights")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from . import selectors
        from .models import Unit

        # Every web server reads the tree of units from the shared cache: drop it on a change.
        post_save.connect(selectors.forget_unit_tree, sender=Unit, dispatch_uid="unit-tree")
        post_delete.connect(selectors.forget_unit_tree, sender=Unit, dispatch_uid="unit-tree-del")
