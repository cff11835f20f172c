"""The ground under every app: small pieces with no models that any app may use.

Not an app (no ``apps.py``), and it imports no app of ``dangan``: canonical JSON for digests
(``canonical``), fast inserts of many rows (``bulk_insert``), the API's problem-detail errors
(``problems``) and the hooks by which a lower app asks a higher one (``hooks``). See the layers
in ``docs/architecture.md``.
"""
