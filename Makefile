# Dangan: `make run` serves the archive with its embedded defaults; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DANGAN_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test lint format messages system-packages clean

$(BIN)/dangan: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Dangan needs Python 3.11 or newer"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/dangan system-packages
	$(BIN)/dangan run

system-packages:
	@bash scripts/system-packages.sh

test: $(BIN)/dangan system-packages
	$(BIN)/ruff check dangan tests bench
	DANGAN_DATA_DIR=$(CURDIR)/data/test $(BIN)/pytest $(PYTEST_ARGS)

lint: $(BIN)/dangan
	$(BIN)/ruff check dangan tests bench
	$(BIN)/ruff format --check dangan tests bench

format: $(BIN)/dangan
	$(BIN)/ruff check --fix dangan tests bench
	$(BIN)/ruff format dangan tests bench

# After changing strings: collect them (needs GNU gettext), translate the new ones in
# dangan/locale/zh_Hans/LC_MESSAGES/django.po, then run `make messages` again; zh_Hant is made
# from zh_Hans by OpenCC, and the compiled .mo files are committed.
messages: $(BIN)/dangan
	cd dangan && ../$(BIN)/dangan makemessages -l zh_Hans -l en --no-obsolete --no-location --ignore 'static/*'
	$(BIN)/python scripts/hant_from_hans.py
	cd dangan && ../$(BIN)/dangan compilemessages -l en

clean:
	rm -rf $(VENV) data/test
