"""``make screenshots``: the console's main pages at phone (360 px) and desktop (1280 px) width,
as PNG files in ``screenshots/``, for a person to look at.

It serves ``make run``'s demo city (building it if absent, with its demo accounts) on a free
port, signs in as each demo role with a token and photographs each page in headless Chromium
(Debian's, /usr/bin/chromium, driven by Playwright), in Chinese and in English.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, sync_playwright

from api.auth import issue_token
from api.settings import Settings
from matcher.store.connect import open_store

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "screenshots"
DB = ROOT / "var" / "volmatch.db"
CHROMIUM = os.environ.get("VOLMATCH_CHROMIUM", "/usr/bin/chromium")
WIDTHS = {"phone": (360, 780), "desktop": (1280, 900)}


def tokens() -> dict[str, str]:
    settings = Settings(database_url=f"sqlite:///{DB}")
    key = settings.signing_key()
    store = open_store(settings.database_url)
    try:
        found = {role: store.find_account(f"demo-{role}") for role in ("volunteer", "organiser", "analyst")}
    finally:
        store.close()
    now = datetime.now(UTC)
    return {role: issue_token(a, key, now=now, ttl_hours=1) for role, a in found.items() if a is not None}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sign_in(page: Page, base: str, token: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#token", token)
    page.click("button.primary")
    page.wait_for_load_state("networkidle")


def main() -> None:
    volmatch = [sys.executable, "-m", "api.cli"]
    subprocess.run([*volmatch, "demo", "--if-missing"], check=True, cwd=ROOT)
    subprocess.run([*volmatch, "user", "demo"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([*volmatch, "serve", "--port", str(port), "--workers", "1"], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        OUT.mkdir(exist_ok=True)
        shots = shoot(base, tokens())
    finally:
        server.terminate()
        server.wait(10)
    print(f"{len(shots)} screenshots in {OUT}:")
    for path in shots:
        print(f"  {path.relative_to(ROOT)}")


def shoot(base: str, token: dict[str, str]) -> list[Path]:
    shots: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for size, (width, height) in WIDTHS.items():
            for lang in ("zh", "en"):
                context = browser.new_context(viewport={"width": width, "height": height},
                                              locale="zh-CN" if lang == "zh" else "en-GB")  # fmt: skip
                page = context.new_page()
                signed_in_as = None
                pages: list[tuple[str, str | None, str]] = [
                    ("login", None, "/login"),
                    ("register", None, "/register"),
                ]
                pages += [("volunteer", "volunteer", "/me"), ("volunteer-profile", "volunteer", "/me/profile"),
                          ("organiser", "organiser", "/org"), ("analyst", "analyst", "/analytics")]  # fmt: skip
                for name, role, path in pages:
                    if role is not None and role != signed_in_as:
                        context.clear_cookies()
                        sign_in(page, base, token[role])
                        signed_in_as = role
                        use_language(page, lang)
                    page.goto(base + path)
                    shots.append(snap(page, f"{name}-{size}-{lang}"))
                    if name == "organiser":
                        first = page.locator("#activities a[href^='/org/shifts/']").first
                        if first.count():
                            first.click()
                            page.wait_for_load_state("networkidle")
                            shots.append(snap(page, f"organiser-shift-{size}-{lang}"))
                        page.goto(base + "/org")
                        edit = page.locator("#activities a[href^='/org/activities/']").first
                        if edit.count():
                            edit.click()
                            page.wait_for_load_state("networkidle")
                            shots.append(snap(page, f"organiser-edit-{size}-{lang}"))
                context.close()
            shots += newcomer(browser, base, size, width, height)
        browser.close()
    return shots


def newcomer(browser: Browser, base: str, size: str, width: int, height: int) -> list[Path]:
    """A new volunteer's first minutes, in Chinese: register with a birth date, pick a skill and
    free hours, see their recommendations; then a value the service refuses, and its message."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/register")
    page.fill("#account", f"newcomer-{size}-{secrets.token_hex(3)}")
    page.fill("#password", "a long enough password")
    page.fill("#name", "王小明")
    page.fill("#birth_date", "1998-06-15")
    page.select_option("#district", "西湖区")
    page.click("#register button.primary")
    page.wait_for_load_state("networkidle")
    page.fill("#skill-q", "急救")
    page.locator("#skill-results label", has_text="急救").first.wait_for()
    page.locator("#skill-results label", has_text="急救").first.locator("input").check()
    for day in ("sat", "sun"):
        for hour in (8, 10, 12, 14):
            page.check(f"#availability input[value='{day}:{hour}']")
    page.click("#profile button.primary")
    page.wait_for_load_state("networkidle")
    page.goto(f"{base}/me")
    shots = [snap(page, f"newcomer-{size}-zh")]
    page.goto(f"{base}/me/profile")
    page.check("#consent")
    page.fill("#lat", "91")
    page.fill("#lon", "120.1")
    page.click("#profile button.primary")
    page.wait_for_load_state("networkidle")
    shots.append(snap(page, f"error-{size}-zh"))
    context.close()
    return shots


def use_language(page: Page, lang: str) -> None:
    """A demo account keeps the language last chosen with it: switch when it is the other one."""
    if (page.locator("html").get_attribute("lang") or "").startswith(lang):
        return
    page.click("header form[action='/lang'] button")
    page.wait_for_load_state("networkidle")


def snap(page: Page, name: str) -> Path:
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


if __name__ == "__main__":
    main()
