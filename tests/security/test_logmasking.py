"""Logs never hold a whole ID number, whoever writes the line."""

import logging

from dangan.security.logmasking import MaskIdNumbersFilter, mask_id_numbers

ID18 = "11010119800101123X"
ID15 = "110101800101123"


def test_id_numbers_in_text_are_masked_but_other_numbers_are_not():
    text = (
        f"looked up {ID18} and {ID15}; record 20240101, phone 13912345678, id=123456789012345678901"
    )
    masked = mask_id_numbers(text)
    assert ID18 not in masked and ID15 not in masked
    assert "110101********123X" in masked and "110101*****1123" in masked
    assert "13912345678" in masked and "123456789012345678901" in masked


def test_the_filter_masks_messages_arguments_and_tracebacks(caplog):
    logger = logging.getLogger("dangan.test.masking")
    handler_filter = MaskIdNumbersFilter()
    logger.addFilter(handler_filter)
    try:
        with caplog.at_level(logging.INFO, logger="dangan.test.masking"):
            logger.info("person %s filed", ID18)
            try:
                raise ValueError(f"bad number {ID18}")
            except ValueError:
                logger.exception("import failed")
        text = caplog.text
        assert ID18 not in text and "110101********123X" in text
    finally:
        logger.removeFilter(handler_filter)


def test_the_filter_is_installed_on_the_log_handler(settings):
    handler = settings.LOGGING["handlers"]["console"]
    assert "mask_id_numbers" in handler["filters"]
