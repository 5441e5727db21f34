#!/usr/bin/env bash
# Installs the Debian packages and npm tools naome-report needs, only where they are missing.
#   runtime: fonts (Liberation Sans, the NHS identity's Arial stand-in); poppler-utils (pdftotext: the
#            disclosure audit reads the PDFs' text); HarfBuzz's subsetter (without it weasyprint subsets
#            each PDF's fonts with fontTools, in Python: a quarter of every pack's time)
#   test:    + chromium (browser tests), LibreOffice Calc
#            (workbook opens in LibreOffice), axe-core (accessibility checks, from npm)
set -euo pipefail
mode="${1:-runtime}"
need=()
fc-list 2>/dev/null | grep -qi "Liberation Sans" || need+=(fonts-liberation2)
command -v pdftotext >/dev/null || need+=(poppler-utils)
/sbin/ldconfig -p 2>/dev/null | grep -q "libharfbuzz-subset.so.0 " || need+=(libharfbuzz-subset0)
if [ "$mode" = "test" ]; then
  command -v chromium >/dev/null || need+=(chromium)
  command -v soffice >/dev/null || need+=(libreoffice-calc-nogui)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing system packages: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "warning: missing system packages (${need[*]}); install them with your package manager" >&2
  fi
fi
if [ "$mode" = "test" ] && [ -f tests/portal/package.json ] && [ ! -d tests/portal/node_modules/axe-core ]; then
  if command -v npm >/dev/null; then
    (cd tests/portal && npm ci --silent --no-audit --no-fund >/dev/null 2>&1 || npm install --silent --no-audit --no-fund >/dev/null)
  else
    echo "warning: npm not found; browser accessibility tests will be skipped" >&2
  fi
fi
