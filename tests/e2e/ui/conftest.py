"""The web UI end to end: `cvat-serverless up` serving frontend/dist, driven by Debian's Chromium
(/usr/bin/chromium) through Playwright, never a downloaded browser. `make test` builds the UI and
installs Chromium first. A screenshot of every page a test visits is kept under
`.artifacts/ui/` (not committed) as the test's artifact."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Runtime, cli

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / ".artifacts" / "ui"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
ADMIN, ADMIN_PASSWORD = "ui-admin", "ui-admin-pass-1"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not (ROOT / "frontend" / "dist" / "index.html").is_file():
        pytest.fail("frontend/dist is not built: run `make frontend` (make test does)")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup-browser` (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def admin(runtime: Runtime) -> tuple[str, str]:
    made = cli("createsuperuser", "--username", ADMIN, "--email", f"{ADMIN}@example.com", "--password",
               ADMIN_PASSWORD, data_dir=runtime.data_dir)
    assert made.returncode == 0, made.stderr
    return ADMIN, ADMIN_PASSWORD


class Shots:
    """Screenshots of the pages a test visits, named after the test."""

    def __init__(self, page: object, test: str) -> None:
        self.page = page
        self.folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", test)
        self.count = 0

    def __call__(self, name: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count += 1
        self.page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)  # type: ignore[attr-defined]


@pytest.fixture
def page(browser: object, runtime: Runtime, request: pytest.FixtureRequest) -> Iterator[object]:
    context = browser.new_context(base_url=runtime.url, viewport={"width": 1280, "height": 720},  # type: ignore[attr-defined]
                                  accept_downloads=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.shots = Shots(page, request.node.name)
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def sign_in(page: object, username: str, password: str) -> None:
    page.goto("/auth/login")  # type: ignore[attr-defined]
    page.get_by_label("Username or email").fill(username)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign out").wait_for()  # type: ignore[attr-defined]
