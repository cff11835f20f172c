#!/usr/bin/env bash
# Debian packages the tests need: Chromium for the browser tests, CJK fonts for rendering,
# poppler-utils to read the text layer of the searchable PDFs (digitization), Pango and HarfBuzz's
# subsetter for WeasyPrint (box labels, the annual report as PDF).
# Installs what is missing when we may (root with apt-get); otherwise says what to install.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)  # reads the searchable PDFs' text
command -v openssl >/dev/null 2>&1 || need+=(openssl)  # checks our SM2 signatures independently
for lib in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0; do  # WeasyPrint's pip wheel
  dpkg -s "$lib" >/dev/null 2>&1 || need+=("$lib")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${need[*]} from Debian…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "Please install: sudo apt-get install ${need[*]} (browser tests need them)" >&2
fi
