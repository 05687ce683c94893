#!/usr/bin/env bash
# The README's screenshots: each page type at desktop (1280 px) and phone (390 px) width, from headless Chromium.
# Uses the sample inbox through the real pipeline when it runs, else the test fixture warehouse.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec .venv/bin/python tests/test_browser.py --screenshots
