"""What accounts tells the apps above it (they connect in their ``AppConfig.ready``)."""

from django.dispatch import Signal

#: An account or a client address was locked after failed log-ins: ``lock`` (a ``Lockout``).
locked_out = Signal()

#: A role or the grants of ``user`` were changed by ``actor``: ``before`` and ``after`` dicts.
rights_changed = Signal()

#: A county role was defined, changed or removed by ``actor``: ``role`` (its code), ``before``
#: and ``after`` (its permissions; None when it did not or no longer exists).
role_changed = Signal()
