"""A logging filter that masks anything that looks like a national ID number (15 or 18 digits,
the last maybe X) in every log record, whoever logged it: Django's request errors, libraries,
our own code. The masked form is ``people.id_numbers.mask``'s: first six and last four kept."""

import logging
import re

_ID_LIKE = re.compile(r"(?<![\dA-Za-z])(?:\d{17}[\dXx]|\d{15})(?![\dA-Za-z])")


def mask_id_numbers(text: str) -> str:
    return _ID_LIKE.sub(lambda m: m[0][:6] + "*" * (len(m[0]) - 10) + m[0][-4:], text)


class MaskIdNumbersFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_id_numbers(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_id_numbers(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_id_numbers(record.exc_text)
        return True
