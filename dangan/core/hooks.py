"""Hooks: how a lower app asks a higher one for an answer without importing it.

A Django signal *tells* ("these records changed"), and any number of higher apps listen. A hook
*asks* ("which records hold these words?") and exactly one higher app answers. The lower app
declares the hook beside the code that asks; the higher app provides the answer in its
``AppConfig.ready``::

    # dangan/catalogue/selectors.py (low): declares and asks
    records_matching_words = Hook("the record ids matching words in the search index")
    ids = records_matching_words(user, q)

    # dangan/search/apps.py (high), in ready(): answers
    records_matching_words.provide(matching_record_ids)

Asking a hook that no app provides raises ``ImproperlyConfigured``: a missing answer is a
configuration error, never a silent empty result.
"""

from django.core.exceptions import ImproperlyConfigured


class Hook:
    """One function a higher app provides for a lower one."""

    def __init__(self, description: str):
        self.description = description
        self._function = None

    def provide(self, function):
        """Set the one function that answers (called from the providing app's ``ready``)."""
        self._function = function
        return function

    def __call__(self, *args, **kwargs):
        if self._function is None:
            raise ImproperlyConfigured(f"No installed app provides {self.description}.")
        return self._function(*args, **kwargs)

    def __repr__(self):
        return f"<Hook {self.description}>"
