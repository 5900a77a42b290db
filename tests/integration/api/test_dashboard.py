"""The dashboard in headless Chromium on real data: it signs in from the link's fragment, draws the
charts from /stats, shows the consumer lag, and a click on an event opens its details."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.integration.api.cdp import Browser
from tests.integration.api.conftest import WORKER_LAG, Seeded


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    b = Browser(tmp_path / "profile")
    try:
        yield b
    finally:
        b.close()


def test_dashboard_renders_real_data_and_opens_event_details(browser: Browser, live_api: str, seeded: Seeded,
                                                             tmp_path: Path) -> None:
    token = seeded.token("globex")
    browser.call("Page.navigate", url=f"{live_api}/dashboard#token={token}")
    browser.wait_for("document.body.dataset.ready === '1'")
    assert browser.evaluate("location.hash") == "", "the token must leave the address bar"
    assert browser.evaluate("sessionStorage.getItem('ofs.credential')") == token
    # The seeded events span the last months: show the 30-day range, as an analyst would.
    browser.evaluate("document.body.dataset.ready = ''; const r = document.getElementById('range');"
                     "r.value = 'day'; r.dispatchEvent(new Event('change'))")
    browser.wait_for("document.body.dataset.ready === '1'")
    stats = requests.get(f"{live_api}/api/v1/stats", params={"interval": "day", "groupBy": "severity", "top": "10"},
                         headers=seeded.headers("globex"), timeout=30).json()
    segments = sum(1 for b in stats["buckets"] for n in b["counts"].values() if n)
    assert segments > 0
    assert browser.evaluate("document.querySelectorAll('#chart-time rect.bar').length") == segments
    drawn = browser.evaluate("[...document.querySelectorAll('#chart-time rect.bar')].map(r => r.dataset.group)")
    assert set(drawn) == {g for b in stats["buckets"] for g, n in b["counts"].items() if n}
    assert browser.evaluate("document.querySelectorAll('#chart-types rect.bar').length") == len(stats["topEventTypes"])
    assert browser.evaluate("document.querySelectorAll('#chart-devices rect.bar').length") == len(stats["topDevices"])
    assert browser.evaluate("document.getElementById('lag').textContent") == str(WORKER_LAG)
    assert browser.evaluate("document.getElementById('total').textContent").replace(",", "") == str(stats["total"])

    rows = browser.evaluate("[...document.querySelectorAll('#latest tbody tr')].map(r => r.cells[1].textContent)")
    assert rows and set(rows) <= {"CRITICAL", "ERROR"}
    link = json.loads(browser.evaluate(
        "(() => { const a = document.querySelector('#latest a.event'); a.scrollIntoView();"
        " const r = a.getBoundingClientRect();"
        " return JSON.stringify({id: a.dataset.eventId, x: r.x + r.width / 2, y: r.y + r.height / 2}); })()"))
    assert browser.evaluate("document.getElementById('details').hidden") is True
    browser.click(link["x"], link["y"])
    browser.wait_for(f"document.getElementById('details').dataset.eventId === {json.dumps(link['id'])} && "
                     "!document.getElementById('details').hidden")
    event = next(e for e in seeded.events if e["toolEventId"] == link["id"])
    assert event["tenantId"] == "globex" and event["severity"] in ("CRITICAL", "ERROR")
    assert browser.evaluate("document.getElementById('details-message').textContent") == event["message"]
    assert json.loads(browser.evaluate("document.getElementById('details-json').textContent")) == event["details"]
    browser.screenshot(tmp_path / "dashboard.png")
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000
    assert not browser.console, browser.console


def test_dashboard_without_a_credential_shows_only_the_sign_in(browser: Browser, live_api: str) -> None:
    browser.call("Page.navigate", url=f"{live_api}/dashboard")
    browser.wait_for("document.readyState === 'complete' && !document.getElementById('login').hidden")
    assert browser.evaluate("document.getElementById('app').hidden") is True
    browser.evaluate("document.getElementById('credential').value = 'not-a-token';"
                     "document.getElementById('login').requestSubmit()")
    browser.wait_for("document.getElementById('status').textContent.includes('rejected')")
    assert browser.evaluate("sessionStorage.getItem('ofs.credential')") is None
