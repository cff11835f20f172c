from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    """Hardening that is not one app's business: headers, sessions, rate limits, log masking,
    limits on what uploaded files may unpack to. See docs/security.md."""

    name = "dangan.security"
    label = "security"
    verbose_name = _("Security")

    def ready(self):
        from PIL import Image

        # Pillow warns above its default and refuses at twice it; refuse at our own limit,
        # explicitly, so a decompression bomb of a scan never reaches memory.
        Image.MAX_IMAGE_PIXELS = settings.DANGAN_MAX_IMAGE_PIXELS
