"""The API keeps nothing of its own: the filings of business systems (归档接口) are the
pre-archive queue's, in ``dangan.intake`` (``intake.models.Filing``)."""
