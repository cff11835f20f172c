"""Structured logs (``DANGAN_LOG_FORMAT=json``): one JSON object a line, for a log collector.

The ID-number masking filter runs before formatting, so messages and tracebacks arrive here
already masked; the extra fields a caller passes are masked too.
"""

import datetime
import json
import logging

from dangan.security.logmasking import mask_id_numbers

#: Attributes every LogRecord has: whatever else a record carries came in ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_id_numbers(record.getMessage()),
            "process": record.process,
            "thread": record.threadName,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = mask_id_numbers(value if isinstance(value, str) else repr(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = mask_id_numbers(record.exc_text)
        return json.dumps(entry, ensure_ascii=False)
