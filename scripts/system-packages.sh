#!/usr/bin/env bash
# Debian packages Dangan needs (`make run` and `make test` both call this): CJK fonts for every
# PDF (without them certificates and reports would show empty boxes, so Dangan refuses to make
# them), poppler-utils to read the text layer of the searchable PDFs (digitization), Pango and
# HarfBuzz's subsetter for WeasyPrint (certificates, box labels, the annual report as PDF),
# openssl to check our SM2 signatures independently, LibreOffice without a display for the PDF/A
# renditions of born-digital documents, and Chromium for the browser tests.
# Installs what is missing when we may (root with apt-get); otherwise says what to install.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need+=(fonts-dejavu-core)  # tests: a font without Chinese glyphs
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)  # reads the searchable PDFs' text
command -v openssl >/dev/null 2>&1 || need+=(openssl)  # checks our SM2 signatures independently
# Born-digital documents (Word, Excel, PowerPoint, WPS) rendered to PDF/A in the worker.
# python3-uno: LibreOffice's Python bridge, for the warm converter (unoserver) that keeps one
# LibreOffice running per worker instead of starting one per file.
for office in libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui python3-uno; do
  dpkg -s "$office" >/dev/null 2>&1 || need+=("$office")
done
for lib in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0; do  # WeasyPrint's pip wheel
  dpkg -s "$lib" >/dev/null 2>&1 || need+=("$lib")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${need[*]} from Debian…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "Dangan needs these Debian packages; please install them:" >&2
  echo "  sudo apt-get install ${need[*]}" >&2
fi
