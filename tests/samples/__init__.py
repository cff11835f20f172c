"""The sample register and scans, carried with the tests so that they run on a fresh clone
(``README.md`` here says what they hold)."""

from pathlib import Path

SAMPLES = Path(__file__).resolve().parent
#: A register as county rooms keep them: title row, 15-digit and full-width ID numbers, 共计 row.
REGISTER = SAMPLES / "unemployment_custody_register.xlsx"
#: Three scanned pages, one folder per archive number, their true text in ``scans.truth.json``.
SCANS = SAMPLES / "scans"
TRUTH = SAMPLES / "scans.truth.json"
