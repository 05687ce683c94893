"""The reports in a real browser: headless Chromium over the DevTools pipe fails on any console error or request.

Also makes the README's screenshots: `.venv/bin/python tests/test_browser.py --screenshots` (see tests/screenshots/).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
SHOTS = Path(__file__).resolve().parent / "screenshots"
sys.path.insert(0, str(Path(__file__).resolve().parent))

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                       "(apt-get install chromium fonts-noto-cjk; tests/check.sh installs it when run as root)"),
]

DESKTOP = (1280, 2000)
PHONE = (390, 1800)


@dataclass
class PageReport:
    """What a page did while it loaded and while a reader clicked around."""

    url: str
    errors: list[str] = field(default_factory=list)  # console errors, exceptions, error log entries
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    width: int = 0  # the page's scroll width at the viewport width (wider means it overflows sideways)


def _high_pipe() -> tuple[int, int]:
    """A pipe whose ends are above fd 9, so moving them onto fds 3 and 4 in the child cannot clobber them."""
    ends = []
    for fd in os.pipe():
        ends.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10))
        os.close(fd)
    return ends[0], ends[1]


class Browser:
    """Headless Chromium driven over --remote-debugging-pipe: stdlib only, no driver, no network port."""

    def __init__(self, profile: Path) -> None:
        # the browser's own log, for the message when it dies (its D-Bus complaints are noise here)
        self._log = (profile / "chromium.log").open("wb")
        to_browser_r, self._to_browser = _high_pipe()
        self._from_browser, from_browser_w = _high_pipe()
        args = [
            str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--mute-audio", "--hide-scrollbars", f"--user-data-dir={profile}",
            "--remote-debugging-pipe", "about:blank",
        ]
        # The DevTools pipe is fds 3 (commands in) and 4 (replies out) of the browser process.
        self.proc = subprocess.Popen(
            # bash, not sh: dash cannot name file descriptors above 9
            ["/bin/bash", "-c", f'exec "$@" 3<&{to_browser_r} 4>&{from_browser_w} {to_browser_r}<&- '
             f'{from_browser_w}>&-', "chromium", *args],
            pass_fds=(to_browser_r, from_browser_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session = ""

    def close(self) -> None:
        with contextlib.suppress(OSError, TimeoutError, RuntimeError):
            self.send("Browser.close", timeout=5)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        self._log.close()

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    log = Path(self._log.name).read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"chromium closed the DevTools pipe; its log ends:\n{log}")
                self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        result: dict[str, Any] = json.loads(message)
        return result

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: bool = True,
             timeout: float = 30) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            event = self._read(deadline)
            if event.get("method") == method:
                return event
            self.events.append(event)

    def attach(self) -> None:
        targets = self.send("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")

    def open(self, path: Path, size: tuple[int, int], *, mobile: bool = False, exercise: bool = True) -> PageReport:
        """Load a page, click every sort button and type into every filter, and report what happened."""
        width, height = size
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
        self.events.clear()
        url = path.resolve().as_uri()
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")
        script = """(() => {
            document.querySelectorAll('th button').forEach(b => { b.click(); b.click(); });
            document.querySelectorAll('input[data-filter]').forEach(i => {
                i.value = '门店'; i.dispatchEvent(new Event('input'));
                i.value = ''; i.dispatchEvent(new Event('input'));
            });
            document.querySelectorAll('details').forEach(d => { d.open = true; });
            return document.documentElement.scrollWidth;
        })()"""
        if not exercise:
            script = "document.documentElement.scrollWidth"
        result = self.send("Runtime.evaluate", {"expression": script, "returnByValue": True})
        report = PageReport(url, width=int(result.get("result", {}).get("value") or 0))
        if "exceptionDetails" in result:
            report.errors.append(f"exercise: {result['exceptionDetails']}")
        self.send("Runtime.evaluate", {"expression": "document.querySelectorAll('details')"
                                       ".forEach(d => { d.open = false; }); 1"})
        self.send("Runtime.evaluate", {"expression": "1"})  # flush events queued by the clicks
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
                report.errors.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                report.errors.append(f"exception: {params.get('exceptionDetails')}")
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                report.errors.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
            elif method == "Network.requestWillBeSent":
                report.requests.append(params["request"]["url"])
        return report

    def screenshot(self, out: Path, size: tuple[int, int], *, mobile: bool = False) -> Path:
        """The top of the page at `size` (full height up to size[1])."""
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": size[0], "height": 100, "deviceScaleFactor": 1, "mobile": mobile})
        measured = self.send("Runtime.evaluate", {"expression": "document.documentElement.scrollHeight",
                                                  "returnByValue": True})["result"]["value"]
        height = min(int(measured), size[1])
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": size[0], "height": height, "deviceScaleFactor": 1, "mobile": mobile})
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        out.write_bytes(base64.b64decode(data))
        return out


def fixture_site(base: Path) -> Path:
    """Reports from the fixture warehouse of test_report.py (a real DuckDB file)."""
    from test_report import build_fixture_warehouse

    from jobs.report import write_reports

    base.mkdir(parents=True, exist_ok=True)
    warehouse = build_fixture_warehouse(base / "fixture.duckdb")
    write_reports(warehouse, base / "reports")
    return base / "reports"


def pages_of(reports: Path) -> dict[str, Path]:
    """One page of each type: the index a reader enters (reports/index.html), the rest from its generation."""
    from jobs.report import current_generation, org_year_href

    gen = current_generation(reports)
    assert gen is not None, reports
    org = gen / org_year_href("南昌市新建区教体局", 2022)
    indicator = max(gen.glob("indicator/gdp-growth-*.html"), default=None) or sorted(
        gen.glob("indicator/*.html"))[0]
    document = sorted(gen.glob("doc/*.html"), key=lambda p: -p.stat().st_size)[0]
    return {"index": reports / "index.html", "org": org, "indicator": indicator, "document": document}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return pages_of(fixture_site(tmp_path_factory.mktemp("site")))


@pytest.mark.parametrize("kind", ["index", "org", "indicator", "document"])
@pytest.mark.parametrize(("size", "mobile"), [(DESKTOP, False), (PHONE, True)], ids=["desktop", "phone"])
def test_pages_load_without_console_errors_or_requests(browser: Browser, site: dict[str, Path], kind: str,
                                                      size: tuple[int, int], mobile: bool) -> None:
    page = site[kind]
    assert page.is_file(), page
    report = browser.open(page, size, mobile=mobile)
    assert report.errors == []
    assert report.requests == [report.url]  # the page itself, nothing from the network, nothing else
    # at phone width only the tables scroll sideways, never the page
    assert report.width <= size[0], f"{page.name} is {report.width}px wide at {size[0]}px"


def test_the_check_sees_console_errors_exceptions_and_requests(browser: Browser, tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text('<!doctype html><html lang="zh-CN"><body><script>console.error("boom");'
                   'fetch("http://127.0.0.1:9/x").catch(() => {}); undefinedFunction();</script></body></html>',
                   encoding="utf-8")
    report = browser.open(bad, DESKTOP)
    assert any("boom" in e for e in report.errors)
    assert any("undefinedFunction" in e for e in report.errors)
    assert "http://127.0.0.1:9/x" in report.requests


def test_sorting_reorders_the_rows(browser: Browser, site: dict[str, Path]) -> None:
    browser.open(site["indicator"], DESKTOP)
    years = """(() => {
        const table = document.querySelector('table.sortable');
        const read = () => Array.from(table.tBodies[0].rows, r => r.cells[0].textContent.trim());
        const before = read();
        table.tHead.rows[0].cells[0].querySelector('button').click();
        const asc = read();
        table.tHead.rows[0].cells[0].querySelector('button').click();
        return [before, asc, read()];
    })()"""
    before, ascending, descending = browser.send(
        "Runtime.evaluate", {"expression": years, "returnByValue": True})["result"]["value"]
    assert ascending == sorted(before) and descending == sorted(before, reverse=True)


def test_real_warehouse_pages_load_without_console_errors(browser: Browser, built: dict[str, Path]) -> None:
    for kind, page in pages_of(built["reports"]).items():
        report = browser.open(page, DESKTOP)
        assert report.errors == [], kind
        assert report.requests == [report.url], kind


# For the README: show the provenance of the row with the most numbers marked in its sources.
OPEN_RICHEST_SOURCES = """(() => {
    const all = Array.from(document.querySelectorAll('td.sources details'));
    all.sort((a, b) => b.querySelectorAll('mark').length - a.querySelectorAll('mark').length);
    if (all.length) { all[0].open = true; }
})()"""


def make_screenshots(reports: Path, out: Path = SHOTS) -> list[Path]:
    """Desktop and phone screenshots of each page type, for the README."""
    out.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    with tempfile.TemporaryDirectory() as profile:
        b = Browser(Path(profile))
        try:
            b.attach()
            for kind, page in pages_of(reports).items():
                for label, size, mobile in (("desktop", DESKTOP, False), ("phone", PHONE, True)):
                    report = b.open(page, size, mobile=mobile, exercise=False)
                    if report.errors:
                        raise SystemExit(f"{page}: {report.errors}")
                    if kind == "org":
                        b.send("Runtime.evaluate", {"expression": OPEN_RICHEST_SOURCES})
                    shots.append(b.screenshot(out / f"{kind}-{label}.png", size, mobile=mobile))
        finally:
            b.close()
    return shots


def _real_or_fixture_reports(base: Path) -> Path:
    """The sample inbox through the real pipeline when it runs; else the fixture warehouse."""
    try:
        from jobs.run import run_job
        from jobs.settings import Settings

        inbox = base / "inbox"
        shutil.copytree(ROOT / "warehouse" / "inbox", inbox)
        settings = Settings(inbox=inbox, schemas=ROOT / "schemas", warehouse=base / "tongbi.duckdb",
                            reports=base / "reports")
        if run_job(settings).exit_code == 0:
            return settings.reports
        print("the sample run failed; screenshots show the fixture warehouse", file=sys.stderr)
    except Exception as error:  # a pipeline still being written must not stop the screenshots
        print(f"the pipeline did not run ({error!r}); screenshots show the fixture warehouse", file=sys.stderr)
    return fixture_site(base / "fixture")


if __name__ == "__main__":
    if sys.argv[1:] != ["--screenshots"]:
        raise SystemExit("usage: .venv/bin/python tests/test_browser.py --screenshots")
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        for shot in make_screenshots(_real_or_fixture_reports(Path(tmp))):
            print(shot.relative_to(ROOT))
