"""The web console end to end: a real ``volmatch serve`` on a small city and Debian's Chromium
driven by Playwright walk each role's main journey. Every page visited is checked for an error
message and for console errors; the organiser's pages are checked for the volunteers' homes,
phones and e-mails, which must never appear there.

Chromium comes from ``make test`` (scripts/ensure-chromium.sh). In CI these tests never skip;
on a machine without /usr/bin/chromium they skip and say so.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from api.auth import issue_token, utcnow
from matcher.model.domain import Shift, SkillClaim, WeeklyWindow, World
from matcher.model.vocabulary import OrganisationKind, OrganisationStatus
from matcher.operations.joining import Organisation
from matcher.store.base import Account
from matcher.store.connect import open_store
from matcher.store.operations import Policy
from tests.api.served import Served
from tests.conftest import WEST_LAKE, activity, demo_city_copy, volunteer

CHROMIUM = os.environ.get("VOLMATCH_CHROMIUM", "/usr/bin/chromium")
SECRET = "w" * 40
CST = ZoneInfo("Asia/Shanghai")

if not Path(CHROMIUM).exists():
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"CI: {CHROMIUM} is missing; make test installs it (scripts/ensure-chromium.sh)")
    pytest.skip(
        f"no Chromium at {CHROMIUM}: run make test (it installs Debian's chromium)", allow_module_level=True
    )

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402


def next_saturday() -> date:
    today = datetime.now(CST).date()
    return today + timedelta(days=(5 - today.weekday()) % 7 + 7)


def saturday(ident: str, capacity: int) -> Shift:
    day = next_saturday()
    return Shift(ident, datetime.combine(day, time(8), CST), datetime.combine(day, time(12), CST), capacity)


PRIVATE = ["+86 139 1234 5678", "secret.home@example.cn"]


ALWAYS = tuple(
    WeeklyWindow.parse(d, "00:00", "24:00") for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
)
STANDBY_STARTED = timedelta(hours=1)


def world() -> World:
    """Six volunteers with first aid 1-6 km from the West Lake, free at any hour, each with a
    phone and an e-mail; a river clean-up (o1) needing first aid next Saturday morning, ten
    places; and a standby shift (o1) that started an hour ago."""
    people = tuple(
        volunteer(
            f"v{i}",
            float(i),
            name=f"志愿者{i}",
            district="西湖区",
            phone=PRIVATE[0],
            email=PRIVATE[1],
            skills=["first_aid"],
            availability=ALWAYS,
        )
        for i in range(1, 7)
    )
    now = datetime.now(CST).replace(second=0, microsecond=0)
    standby = activity("a2", organisation_id="o1", title="社区应急值守 Standby", category="emergency response",
                       shifts=(Shift("now", now - STANDBY_STARTED, now + timedelta(hours=2), 3),), district="西湖区")  # fmt: skip
    clean_up = activity("a1", organisation_id="o1", title="西溪湿地清洁 River clean-up", category="river protection",
                        shifts=(saturday("s1", 10),), district="西湖区", required_skills=("first_aid",))  # fmt: skip
    return World(people, (clean_up, standby))


@pytest.fixture(scope="module")
def console_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The small city's database (the server below serves it; tests may read its outbox)."""
    return f"sqlite:///{tmp_path_factory.mktemp('console-db') / 'console.db'}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, console_db: str) -> Iterator[tuple[str, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("console")
    url = console_db
    store = open_store(url)
    store.load_world(world())
    store.organisations.seed([
        Organisation("city", "杭州市志愿者协会", OrganisationKind.ASSOCIATION, None, OrganisationStatus.APPROVED),
        Organisation("o1", "西湖区护河队", OrganisationKind.NGO, "city", OrganisationStatus.APPROVED, "西湖区"),
    ])  # fmt: skip
    # v4 took a place on the standby shift before it started.
    began = int((datetime.now(UTC) - STANDBY_STARTED).timestamp())
    store.ops.sign_up("su_standby", "now", "v4", began - 7200, Policy())
    store.ops.sign_up("su_standby5", "now", "v5", began - 7200, Policy())
    accounts = [Account("acct_v1", "v1", "volunteer", volunteer_id="v1"),
                Account("acct_v2", "v2", "volunteer", volunteer_id="v2"),
                Account("acct_v3", "v3", "volunteer", volunteer_id="v3"),
                Account("acct_v4", "v4", "volunteer", volunteer_id="v4"),
                Account("acct_v5", "v5", "volunteer", volunteer_id="v5"),
                Account("acct_o1", "o1", "organiser", organisation_id="o1"),
                Account("acct_oa", "oa", "org_admin", organisation_id="city"),
                Account("acct_an", "an", "analyst")]  # fmt: skip
    for a in accounts:
        store.create_account(a)
    store.close()
    tokens = {a.name: issue_token(a, SECRET, now=utcnow(), ttl_hours=2) for a in accounts}
    with Served(url, SECRET, tmp / "serve.log", workers=1) as served:
        yield served.base, tokens


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


UNLABELLED = """() => Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.closest('label'))
  .map(e => e.outerHTML)"""
"""Every form field has a label a screen reader reads out."""


class Visit:
    """A signed-in browser tab that fails the test on any console error or error page."""

    def __init__(self, browser: Browser, base: str, token: str, width: int = 360) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": width, "height": 800}, locale="zh-CN")
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: d.accept())  # "send the invitations?": yes
        self.go("/login")
        self.page.fill("#token", token)
        self.page.click("button.primary")
        self.page.wait_for_load_state("networkidle")
        self.check()

    def go(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status < 400, (path, response and response.status)
        self.check()
        return response

    def submit(self, selector: str) -> None:
        self.page.click(selector)
        self.page.wait_for_load_state("networkidle")
        self.check()

    def submit_expecting_error(self, selector: str) -> None:
        """Submit a form the service must refuse: its message is shown, and nothing else fails."""
        self.page.click(selector)
        self.page.wait_for_load_state("networkidle")
        assert self.errors == [], self.errors
        assert self.page.locator(".flash.error").count() == 1

    def check(self) -> None:
        assert self.errors == [], self.errors
        assert self.page.evaluate(UNLABELLED) == [], "form fields without a label"
        # Readable at phone width: the page itself never scrolls sideways (wide tables scroll
        # inside their own box).
        assert self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert self.page.locator(".flash.error").count() == 0, self.page.locator(
            ".flash.error"
        ).all_inner_texts()
        assert self.page.locator("h1").first.inner_text() not in ("出错了", "Something went wrong")

    def close(self) -> None:
        self.context.close()


def test_a_volunteer_signs_up_for_a_recommended_shift_and_sees_it(
    server: tuple[str, dict[str, str]], browser: Browser
) -> None:
    base, tokens = server
    v = Visit(browser, base, tokens["v1"])
    v.go("/me")
    offer = v.page.locator('#recommendations li[data-shift="s1"]')
    assert "西溪湿地清洁" in offer.inner_text() and offer.locator(".reasons li").count() > 0
    v.submit('#recommendations li[data-shift="s1"] button')
    mine = v.page.locator('#my-signups li[data-shift="s1"]')
    assert mine.count() == 1 and "已确认" in mine.inner_text()
    assert v.page.locator('#recommendations li[data-shift="s1"]').count() == 0
    # The sign-up is told in the inbox: a count on every page until it is read.
    assert v.page.locator("#inbox-link .badge").inner_text() == "1"
    v.go("/me/inbox")
    told = v.page.locator('#messages li[data-kind="signup_confirmed"]')
    assert told.count() == 1 and "报名成功" in told.inner_text() and "西溪湿地清洁" in told.inner_text()
    v.submit("form[action='/me/inbox/read'] button")
    assert v.page.locator("#inbox-link .badge").count() == 0
    assert v.page.locator("#messages li.unread").count() == 0
    v.go("/me")
    # The page works in English too, and the choice is remembered.
    v.submit("header form[action='/lang'] button")
    assert "confirmed" in v.page.locator('#my-signups li[data-shift="s1"]').inner_text()
    v.go("/me")
    assert v.page.locator("html").get_attribute("lang") == "en"
    v.close()
    # The choice is kept with the account: a new browser (no cookies) opens in English too.
    again = Visit(browser, base, tokens["v1"])
    again.go("/me")
    assert again.page.locator("html").get_attribute("lang") == "en"
    again.submit("header form[action='/lang'] button")  # and back to Chinese
    assert again.page.locator("html").get_attribute("lang") == "zh-CN"
    again.close()


def test_a_volunteer_answers_an_emergency_call_from_the_inbox_and_chooses_how_to_be_told(
    server: tuple[str, dict[str, str]], browser: Browser
) -> None:
    base, tokens = server
    call = httpx.post(f"{base}/api/v1/shifts/s1/emergency-calls", headers={"Authorization": f"Bearer {tokens['o1']}"},
                      json={"needed": 2, "wave_size": 6, "deadline_minutes": 60}, timeout=30)  # fmt: skip
    assert call.status_code == 201, call.text

    def called(name: str) -> bool:
        box = httpx.get(
            f"{base}/api/v1/notifications", headers={"Authorization": f"Bearer {tokens[name]}"}, timeout=30
        )
        return any(m["kind"] == "emergency_call" for m in box.json()["items"])

    name = next(n for n in ("v2", "v3", "v4", "v5") if called(n))
    v = Visit(browser, base, tokens[name])
    v.go("/me/inbox")
    asked = v.page.locator('#messages li[data-kind="emergency_call"]')
    assert asked.count() == 1 and "紧急招募" in asked.inner_text()
    v.submit(
        '#messages li[data-kind="emergency_call"] a.button:not(.secondary)'
    )  # the link, as in the e-mail
    assert "/calls/" in v.page.url
    v.submit('#link-form button[value="accept"]')
    assert "confirmed" in v.page.locator("#link-result").inner_text()

    # How to be told: quiet hours across midnight, reminders left in the inbox.
    v.go("/me/inbox")
    v.page.fill('input[name="quiet_start"]', "23:00")
    v.page.fill('input[name="quiet_end"]', "06:00")
    v.page.check('input[name="muted"][value="reminder"]')
    v.submit("#preferences button")
    assert v.page.locator('input[name="quiet_start"]').input_value() == "23:00"
    assert v.page.locator('input[name="muted"][value="reminder"]').is_checked()
    v.page.fill('input[name="quiet_start"]', "08:00")
    v.page.fill('input[name="quiet_end"]', "08:00")
    v.submit_expecting_error("#preferences button")  # quiet hours that end when they start
    v.close()
    kept = httpx.get(f"{base}/api/v1/volunteers/{name}/notification-preferences",
                     headers={"Authorization": f"Bearer {tokens[name]}"}, timeout=30).json()  # fmt: skip
    assert kept["quiet_hours"] == {"start": "23:00", "end": "06:00", "overnight": True} and kept["muted"] == [
        "reminder"
    ]


def test_the_keyboard_reaches_the_content_and_signs_up(
    server: tuple[str, dict[str, str]], browser: Browser
) -> None:
    base, tokens = server
    v = Visit(browser, base, tokens["v3"])  # before the organiser's campaign invites everyone
    v.go("/me")
    v.page.keyboard.press("Tab")
    assert v.page.evaluate("document.activeElement.className") == "skip"
    v.page.keyboard.press("Enter")
    assert v.page.evaluate("document.activeElement.id") == "main"
    button = v.page.locator('#recommendations li[data-shift="s1"] button')
    for _ in range(40):  # Tab on until the sign-up button has the focus, then press Enter
        v.page.keyboard.press("Tab")
        if button.evaluate("b => b === document.activeElement"):
            break
    v.page.keyboard.press("Enter")
    v.page.wait_for_load_state("networkidle")
    v.check()
    assert v.page.locator('#my-signups li[data-shift="s1"]').count() == 1
    v.close()


def test_a_new_volunteer_registers_and_fills_in_their_profile(
    server: tuple[str, dict[str, str]], browser: Browser
) -> None:
    base, _ = server
    context = browser.new_context(viewport={"width": 360, "height": 800}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/login")
    page.click("a[href='/register']")
    page.fill("#phone", "13800000111")
    page.fill("#password", "short")
    page.fill("#name", "新志愿者 Zoë 🌱")
    page.select_option("#district", "西湖区")
    page.fill("#birth_date", "2004-02-29")
    page.evaluate("document.getElementById('password').removeAttribute('minlength')")
    page.click("#register button.primary")
    assert "密码：至少 10 个字符" in page.locator(".flash.error").inner_text()
    page.fill("#phone", "13800000111")
    page.fill("#password", "a long enough password")
    page.fill("#name", "新志愿者 Zoë 🌱")
    page.fill("#birth_date", "2030-01-01")  # refused by the service, not only by the date picker
    page.evaluate("document.getElementById('birth_date').removeAttribute('max')")
    page.click("#register button.primary")
    assert (
        page.locator(".flash.error").inner_text().endswith("出生日期：2030-01-01 是将来的日期")
    )  # its language
    page.fill("#phone", "13800000111")
    page.fill("#password", "a long enough password")
    page.fill("#name", "新志愿者 Zoë 🌱")
    page.fill("#birth_date", "2004-02-29")
    page.click("#register button.primary")
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(f"{base}/me/verify")  # signed in, asked to prove the number
    page.goto(f"{base}/me/profile")
    assert page.locator("#name").input_value() == "新志愿者 Zoë 🌱"
    # Skills are found as they are typed, in Chinese or English.
    page.fill("#skill-q", "急救")
    page.locator("#skill-results label", has_text="急救").first.wait_for()
    page.locator("#skill-results label", has_text="急救").first.locator("input").check()
    page.fill("#skill-q", "driving")  # a second search keeps the first pick
    page.locator("#skill-results label", has_text="驾驶").first.wait_for()
    page.locator("#skill-results label", has_text="驾驶").first.locator("input").check()
    page.press("#skill-q", "Enter")  # looks up, does not save the form
    page.wait_for_timeout(300)
    assert page.locator(".flash.ok").count() == 0  # nothing saved: no "saved" message
    for cell in ("sat:8", "sat:10"):
        page.check(f"#availability input[value='{cell}']")
    page.check("#consent")
    page.fill("#lat", f"{WEST_LAKE.lat + 0.01:.5f}")
    page.fill("#lon", f"{WEST_LAKE.lon:.5f}")
    page.fill("#cert_skill_0", "急救")
    page.fill("#cert_expires_0", (next_saturday() + timedelta(days=365)).isoformat())
    page.click("#profile button.primary")
    page.wait_for_load_state("networkidle")
    assert "已保存" in page.locator(".flash.ok").inner_text(), page.content()[:3000]
    assert page.locator("#my-skills input[value='first_aid']").is_checked()
    assert page.locator("#my-skills input[value='driving']").is_checked()
    assert page.locator("#availability input[value='sat:8']").is_checked()
    assert not page.locator("#availability input[value='sat:12']").is_checked()
    assert page.locator("#lat").input_value().startswith(f"{WEST_LAKE.lat + 0.01:.2f}")
    assert page.locator("#cert_skill_0").input_value() == "first_aid"
    assert page.locator("#birth_date").input_value() == "2004-02-29"
    # Free on Saturday mornings, 1 km from the lake: the clean-up is recommended.
    page.goto(f"{base}/me")
    assert page.locator('#recommendations li[data-shift="s1"]').count() == 1
    # A bad value comes back as the API's message, and nothing is saved.
    page.goto(f"{base}/me/profile")
    page.fill("#lat", "91")
    page.click("#profile button.primary")
    page.wait_for_load_state("networkidle")
    said = page.locator(".flash.error").inner_text()
    assert said.endswith("住址 纬度：应不大于 90") and "Input" not in said, said
    assert page.locator("#lat").input_value().startswith(f"{WEST_LAKE.lat + 0.01:.2f}")
    assert errors == []
    context.close()


def test_an_organiser_creates_an_activity_invites_and_checks_in(
    server: tuple[str, dict[str, str]], browser: Browser
) -> None:
    base, tokens = server
    o = Visit(browser, base, tokens["o1"], width=1280)
    o.go("/org")
    day = next_saturday().isoformat()
    soon = datetime.now(CST) + timedelta(minutes=40)  # check-in opens an hour before the start
    o.page.fill("#title", "社区长者探访 <script>alert(1)</script>")
    o.page.fill("#category", "elderly care")
    o.page.select_option("#district", "西湖区")
    o.page.fill("#start", f"{soon:%Y-%m-%dT%H:%M}")
    o.page.fill("#end", f"{soon + timedelta(hours=2):%Y-%m-%dT%H:%M}")
    o.page.fill("#capacity", "3")
    o.page.fill("#start", "2020-01-04T08:30")  # in the past: refused
    o.page.fill("#end", "2020-01-04T10:30")
    o.submit_expecting_error("#new-activity button")
    assert "past" in o.page.locator(".flash.error").inner_text()
    o.page.fill("#title", "社区长者探访 <script>alert(1)</script>")
    o.page.fill("#category", "elderly care")
    o.page.fill("#start", f"{soon:%Y-%m-%dT%H:%M}")
    o.page.fill("#end", f"{soon + timedelta(hours=2):%Y-%m-%dT%H:%M}")
    o.page.fill("#capacity", "3")
    o.submit("#new-activity button")
    created = o.page.locator("#activities li", has_text="社区长者探访")
    assert created.count() == 1 and "<script>" in created.inner_text()  # shown as text, not run
    created.locator("a[href^='/org/shifts/']").first.click()
    o.page.wait_for_load_state("networkidle")
    o.check()
    suggested = o.page.locator("#suggested > li")
    assert suggested.count() > 0
    html = o.page.content()
    homes = [f"{WEST_LAKE.lat + km / 111.19508:.4f}" for km in range(1, 7)]  # each volunteer's latitude
    for secret in [*PRIVATE, *homes]:
        assert secret not in html
    shown = [li.get_attribute("data-volunteer") for li in suggested.all()]
    invited = "v2"  # near and free
    assert invited in shown
    card = o.page.locator(f'#suggested > li[data-volunteer="{invited}"]')
    assert "km" in card.inner_text()
    shift_path = o.page.url.removeprefix(base)
    o.submit(f'#suggested > li[data-volunteer="{invited}"] button')
    assert o.page.locator(f'#roster tr[data-volunteer="{invited}"]').count() == 1
    # The volunteer accepts the invitation on their page.
    v = Visit(browser, base, tokens[invited])
    v.go("/me")
    v.submit(f'#my-signups li[data-shift="{shift_path.rsplit("/", 1)[1]}"] form[action$="/accept"] button')
    v.close()
    o.go(shift_path)
    row = f'#roster tr[data-volunteer="{invited}"]'
    o.submit(f'{row} button[data-action="check-in"]')
    assert "已签到" in o.page.locator(row).inner_text()
    o.page.wait_for_timeout(1100)  # times are kept to the second: a check-out comes after the check-in
    o.submit(f'{row} button[data-action="check-out"]')
    # Hours are approved once the shift has taken place, not before.
    o.submit_expecting_error(f'{row} button[data-action="hours"]')
    assert "has not started" in o.page.locator(".flash.error").inner_text()
    # The standby shift started an hour ago: v4 is checked in and out, and their hours approved.
    o.go("/org/shifts/now")
    row = '#roster tr[data-volunteer="v4"]'
    o.submit(f'{row} button[data-action="check-in"]')
    o.page.wait_for_timeout(1100)
    o.submit(f'{row} button[data-action="check-out"]')
    o.page.fill(f"{row} input[name=hours]", "2.5")
    o.submit(f'{row} button[data-action="hours"]')
    assert o.page.locator(f"{row} button").count() == 0 and "时长已核准" in o.page.locator(row).inner_text()
    v = Visit(browser, base, tokens["v4"])
    v.go("/me")
    assert float(v.page.locator("#total-hours").inner_text()) == 2.5
    v.close()
    # v5 checks themself in at the post with the code shown there (a wrong code is refused).
    code = o.page.locator("#check-in-code").inner_text()
    v = Visit(browser, base, tokens["v5"])
    v.go("/me")
    standby = '#my-signups li[data-shift="now"]'
    v.page.fill(f"{standby} input[name=code]", "000000" if code != "000000" else "111111")
    v.submit_expecting_error(f"{standby} form[action$='/check-in'] button")
    v.page.fill(f"{standby} input[name=code]", code)
    v.submit(f"{standby} form[action$='/check-in'] button")
    assert "已签到" in v.page.locator(standby).inner_text()
    v.close()
    o.go(shift_path)
    assert o.page.locator("#check-in-code").inner_text().isdigit() and o.page.locator(".qr svg").count() == 1
    assert (
        o.page.locator(".qr svg").get_attribute("viewBox")
        and o.page.locator(".qr svg").bounding_box()["width"] >= 200
    )
    for secret in PRIVATE:
        assert secret not in o.page.content()
    # Edit the activity: a new title, one more place, and a second shift.
    o.go("/org")
    o.page.locator("#activities li", has_text="社区长者探访").locator("a", has_text="修改").click()
    o.page.wait_for_load_state("networkidle")
    o.check()
    o.page.fill("#title", "社区长者探访（周六）")
    o.page.fill("#capacity_0", "4")
    o.page.fill("#start_1", f"{day}T14:00")
    o.page.fill("#end_1", f"{day}T16:00")
    o.page.fill("#capacity_1", "2")
    o.submit("#edit-activity button.primary")
    assert o.page.locator("#title").input_value() == "社区长者探访（周六）"
    assert o.page.locator("#edit-activity fieldset[data-shift^='s_']").count() == 2
    assert o.page.locator("#capacity_0").input_value() == "4"
    assert o.page.locator(".qr svg").count() == 0  # (the QR code is on the shift page)
    o.page.fill("#end_1", f"{day}T13:00")  # before it starts: refused, nothing changed
    o.submit_expecting_error("#edit-activity button.primary")
    assert o.page.locator("#end_1").input_value().endswith("16:00")
    o.page.uncheck("input[name=keep_1]")  # drop the second shift again
    o.submit("#edit-activity button.primary")
    assert o.page.locator("#edit-activity fieldset[data-shift^='s_']").count() == 1
    # Plan the campaign of both activities and accept it: invitations go out.
    o.go("/org")
    for box in o.page.locator("#activities input[name=activity_ids]").all():
        box.check()
    o.submit("#activities ~ button.primary")
    assert "/org/allocations/al_" in o.page.url and o.page.locator("#assignments tbody tr").count() > 0
    assert o.page.locator(".figures").inner_text().count("%") >= 1
    for secret in PRIVATE:
        assert secret not in o.page.content()
    o.submit("form[action$='/accept'] button")
    assert o.page.locator("form[action$='/accept']").count() == 0 and "已邀请" in o.page.content()
    o.close()


def test_an_analyst_opens_the_gap_map(server: tuple[str, dict[str, str]], browser: Browser) -> None:
    base, tokens = server
    a = Visit(browser, base, tokens["an"], width=1280)
    a.go("/analytics")
    assert a.page.locator("#gap-map path").count() == 13
    assert a.page.locator("#gaps tbody tr").count() > 0
    a.page.select_option("#weekday", "Sat")
    a.submit("#filters button")
    assert "weekday=Sat" in a.page.url
    assert set(a.page.locator("#gaps tbody tr td:nth-child(3)").all_inner_texts()) <= {"Sat"}
    a.page.fill("#skill", "急救")
    a.page.select_option("#area", "西湖区")
    a.submit("#filters button")
    cells = a.page.locator("#gaps tbody tr td:nth-child(2)").all_inner_texts()
    assert cells and set(cells) <= {"first aid", "急救"}
    assert set(a.page.locator("#gaps tbody tr td:nth-child(1)").all_inner_texts()) <= {"西湖区"}
    assert set(cells) <= {"first aid", "急救"}
    a.page.fill("#skill", "no such skill")
    a.submit_expecting_error("#filters button")
    assert a.page.locator("#gaps tbody tr").count() == 0
    # One day (from = to) is a range of one day; a range that ends before it starts is refused
    # and the dates typed stay in the form.
    a.page.fill("#skill", "")
    today = datetime.now(CST).date().isoformat()
    a.page.fill("#from", today)
    a.page.fill("#to", today)
    a.submit("#filters button")
    assert a.page.locator("#to").input_value() == today
    a.page.fill("#to", "2020-01-01")
    a.submit_expecting_error("#filters button")
    assert a.page.locator("#to").input_value() == "2020-01-01"
    a.close()


def test_pages_refuse_the_wrong_role_and_forms_without_their_token(
    server: tuple[str, dict[str, str]], browser: Browser
) -> None:
    import httpx

    base, tokens = server
    v = Visit(browser, base, tokens["v2"])
    response = v.page.goto(base + "/org")
    assert response is not None and response.status == 403
    v.errors.clear()
    v.close()
    # A form posted from elsewhere (no CSRF token) changes nothing.
    forged = httpx.post(f"{base}/me/signups", data={"shift_id": "s1"}, cookies={"vm_session": tokens["v2"]})
    assert forged.status_code == 403 and "表单已过期" in forged.text
    mismatched = httpx.post(f"{base}/me/signups", data={"shift_id": "s1", "csrf": "a"},
                            cookies={"vm_session": tokens["v2"], "vm_csrf": "b"})  # fmt: skip
    assert mismatched.status_code == 403
    missing = httpx.get(f"{base}/no/such/page", cookies={"vm_session": tokens["v2"]})
    assert (
        missing.status_code == 404
        and "找不到该页面" in missing.text
        and missing.headers["content-type"].startswith("text/html")
    )
    api_missing = httpx.get(f"{base}/api/v1/nothing-here")
    assert api_missing.status_code == 404 and api_missing.json()["detail"]
    anonymous = httpx.get(f"{base}/me", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_the_api_documentation_works_without_the_internet(
    server: tuple[str, dict[str, str]], browser: Browser
) -> None:
    base, _ = server
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.route(
        "**/*", lambda route: route.continue_() if route.request.url.startswith(base) else route.abort()
    )
    page.goto(f"{base}/docs")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 20 and errors == []
    context.close()


def register(page: Page, base: str, phone: str, name: str, born: str) -> None:
    """Join at /register in 西湖区; the console signs the newcomer in and asks for the phone code."""
    page.goto(f"{base}/register")
    page.fill("#phone", phone)
    page.fill("#password", "a long enough password")
    page.fill("#name", name)
    page.fill("#birth_date", born)
    page.select_option("#district", "西湖区")
    page.click("#register button.primary")
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(f"{base}/me/verify")


@pytest.fixture(scope="module")
def demo_city(
    tmp_path_factory: pytest.TempPathFactory, demo_city_file: Path
) -> Iterator[tuple[str, str, str]]:
    """``make run``'s city: ``volmatch demo`` with its defaults, served; an analyst's token; and
    the database."""
    tmp = tmp_path_factory.mktemp("demo")
    url = demo_city_copy(demo_city_file, tmp)
    store = open_store(url)
    analyst = Account("acct_demo_an", "demo_analyst", "analyst")
    store.create_account(analyst)
    store.close()
    with Served(url, SECRET, tmp / "serve.log", workers=1) as served:
        yield served.base, issue_token(analyst, SECRET, now=utcnow(), ttl_hours=2), url


OVERLAPS = """() => {
  const boxes = Array.from(document.querySelectorAll('#gap-map text')).map(t => t.getBoundingClientRect());
  let n = 0;
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) n++;
  }
  return [boxes.length, n];
}"""


@pytest.mark.parametrize("width", [360, 1280])
def test_the_demo_citys_gap_map_shows_its_shortages(
    demo_city: tuple[str, str, str], browser: Browser, width: int
) -> None:
    base, token, _ = demo_city
    a = Visit(browser, base, token, width=width)
    a.go("/analytics")
    labels, overlapping = a.page.evaluate(OVERLAPS)
    assert labels >= 10 and overlapping == 0
    fills = a.page.locator("#gap-map path").evaluate_all("ps => ps.map(p => p.getAttribute('fill'))")
    assert any(f not in ("#e5f5e0", "#c9d1da") for f in fills), fills  # some district is short
    assert any(f == "#e5f5e0" for f in fills), fills  # and some is not
    shortages = a.page.locator("#shortages").inner_text()
    assert "线上" in shortages and ("临安区" in shortages or "桐庐县" in shortages), shortages
    assert a.page.locator("#gaps tbody tr").count() == 60
    assert "缺口最大的 60 行，共" in a.page.locator("main").inner_text()
    gaps = [float(x) for x in a.page.locator("#gaps tbody tr td:nth-child(6)").all_inner_texts() if x != "—"]
    assert gaps == sorted(gaps, reverse=True) and gaps[0] > 0  # the largest gaps first
    a.close()


def test_a_new_volunteer_in_the_demo_city_gets_recommendations(
    demo_city: tuple[str, str, str], browser: Browser
) -> None:
    """Register with a birth date, fill in skills and free hours: at least five activities."""
    base, _, _ = demo_city
    context = browser.new_context(viewport={"width": 360, "height": 800}, locale="zh-CN")
    page = context.new_page()
    register(page, base, "13900000222", "王小明", "1998-06-15")
    page.goto(f"{base}/me/profile")
    page.fill("#skill-q", "急救")
    page.locator("#skill-results label", has_text="急救").first.wait_for()
    page.locator("#skill-results label", has_text="急救").first.locator("input").check()
    for day in ("sat", "sun"):
        for hour in (8, 10, 12, 14):
            page.check(f"#availability input[value='{day}:{hour}']")
    page.click("#profile button.primary")
    page.wait_for_load_state("networkidle")
    assert "已保存" in page.locator(".flash.ok").inner_text()
    page.goto(f"{base}/me")
    assert page.locator("#recommendations li").count() >= 5, page.locator("main").inner_text()[:2000]
    context.close()


def test_joining_an_organisation_and_signing_a_team_up_in_the_console(
    server: tuple[str, dict[str, str]], console_db: str, browser: Browser
) -> None:
    """Register, prove the phone with the code from the outbox, ask to join; the org admin
    approves, makes a team with the newcomer as leader and a station; the leader signs the team
    up; the station is on the map."""
    base, tokens = server
    context = browser.new_context(viewport={"width": 360, "height": 800}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    register(page, base, "13700000333", "林小队长", "1990-05-05")
    page.click("#send-code button")
    page.wait_for_load_state("networkidle")
    store = open_store(console_db)
    try:
        account = store.find_account("+8613700000333")
        assert account is not None and account.volunteer_id is not None
        vid = account.volunteer_id
        found, _, _ = store.messages.inbox(vid, int(datetime.now(UTC).timestamp()) + 60)
        code = next(str(m.detail["code"]) for m in found if m.kind == "phone_code")
        # The newcomer's profile says first aid, free at any hour (the clean-up asks for both);
        # v6 is a member already: the team will have two people.
        me = store.get_volunteer(vid)
        assert me is not None
        store.upsert_volunteer(replace(me, skills=(SkillClaim("first_aid"),), availability=ALWAYS))
        store.organisations.apply("o1", "v6", "", 0)
        store.organisations.decide_member("o1", "v6", True, "test", 0)
    finally:
        store.close()
    page.fill("#code", code)
    page.click("#verify button.primary")
    page.wait_for_load_state("networkidle")
    assert (
        page.url.startswith(f"{base}/me/profile") and "手机号已验证" in page.locator(".flash.ok").inner_text()
    )
    page.goto(f"{base}/me/organisations")
    page.click("#directory li[data-org='o1'] button")
    page.wait_for_load_state("networkidle")
    assert "申请中" in page.locator("#memberships li[data-org='o1']").inner_text()
    # The org admin of the association approves, makes a team and a station.
    admin = Visit(browser, base, tokens["oa"])
    admin.go("/org/manage?org=o1")
    admin.submit(f"#members li[data-volunteer='{vid}'] button.primary")
    assert (
        admin.page.locator(f"#members li[data-volunteer='{vid}']").get_attribute("data-status") == "approved"
    )
    admin.page.fill("#team-name", "护河一队")
    admin.page.select_option("#team-leader", vid)
    admin.page.check("#new-team input[value='v6']")
    admin.submit("#new-team button.primary")
    assert "护河一队" in admin.page.locator("#org-teams").inner_text()
    admin.page.fill("#st-name", "西溪志愿服务站")
    admin.page.fill("#st-lat", f"{WEST_LAKE.lat + 0.02:.5f}")
    admin.page.fill("#st-lon", f"{WEST_LAKE.lon:.5f}")
    admin.page.fill("#st-services", "应急包，饮水")
    admin.submit("#new-station button.primary")
    assert "西溪志愿服务站" in admin.page.locator("#org-stations").inner_text()
    admin.close()
    # The leader signs the team up for the clean-up: both get places together.
    page.goto(f"{base}/me/organisations")
    form = page.locator("#teams form.team-signup").first
    form.locator("select").select_option("s1")
    form.locator("button.primary").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".flash.error").count() == 0, page.locator(".flash.error").inner_text()
    assert "全队报名成功" in page.locator(".flash.ok").inner_text()
    page.goto(f"{base}/stations?near={WEST_LAKE.lat},{WEST_LAKE.lon}")
    assert page.locator("#station-map circle.station").count() >= 1
    assert "西溪志愿服务站" in page.locator("#stations").inner_text()
    assert errors == []
    context.close()


def test_a_volunteer_who_joins_through_the_api_in_the_demo_city_gets_five_activities(
    demo_city: tuple[str, str, str],
) -> None:
    """What a phone app does in ``make run``'s city: register, prove the number (the code is in
    the inbox without an SMS gateway), sign in with the OAuth2 form, ask for activities."""
    base, _, db = demo_city
    phone, password = "13600000444", "a long enough password"
    with httpx.Client(base_url=base, timeout=30) as c:
        joined = c.post("/api/v1/accounts", json={
            "name": "张三", "phone": phone, "password": password, "birth_date": "1996-04-01",
            "district": "西湖区", "skills": ["first aid"],
            "availability": [{"day": d, "start": "08:00", "end": "18:00"} for d in ("sat", "sun")],
        })  # fmt: skip
        assert joined.status_code == 201, joined.text
        assert c.post("/api/v1/auth/phone-codes", json={"phone": phone}).status_code == 202
        # Until the number is proved, it does not sign in; the console's session can read the inbox.
        assert c.post("/api/v1/auth/token", data={"username": phone, "password": password}).status_code == 401
        store = open_store(db)
        try:
            found, _, _ = store.messages.inbox(
                joined.json()["volunteer_id"], int(datetime.now(UTC).timestamp()) + 60
            )
        finally:
            store.close()
        code = next(str(m.detail["code"]) for m in found if m.kind == "phone_code")
        assert (
            c.post("/api/v1/auth/phone-codes/verify", json={"phone": phone, "code": code}).status_code == 200
        )
        signed = c.post("/api/v1/auth/token", data={"username": phone, "password": password})
        assert signed.status_code == 200, signed.text
        h = {"Authorization": f"Bearer {signed.json()['access_token']}"}
        vid = joined.json()["volunteer_id"]
        got = c.get(f"/api/v1/volunteers/{vid}/recommended-activities?k=10", headers=h)
        assert got.status_code == 200, got.text
        assert len(got.json()["matches"]) >= 5, got.json()
