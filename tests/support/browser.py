"""Debian's headless Chromium, driven by Playwright, opening a page and recording what it did.

Playwright is the driver, not the browser: it launches /usr/bin/chromium (apt-get install
chromium; .ci/run does), so no browser download is needed. Every request the page makes is
recorded and, unless it is the page itself, refused; so are console messages, page errors and
dialogs (an `alert` that ran would be one).

Also a screenshot command: `python -m tests.support.browser PAGE.html SHOT.png [--phone]`.
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from playwright.sync_api import Dialog, Page, Route

CHROMIUM: Final = Path("/usr/bin/chromium")
# What works as root on a machine with no network and no GPU; the rest keeps Chromium from
# phoning home, so a request seen in a test can only come from the page.
LAUNCH_ARGS: Final = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LAPTOP: Final = (1280, 900)
PHONE: Final = (390, 844)
LOAD_TIMEOUT_MS: Final = 15_000


def browser_missing() -> str | None:
    """Why the browser tests can't run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not installed (apt-get install chromium; .ci/run installs it)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


@dataclass
class Visit:
    """A page as loaded, and everything it tried to do while loading."""

    page: Page
    url: str
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        """Every request but the page itself."""
        return [url for url in self.requests if url != self.url]


@contextmanager
def visit(path: Path, viewport: tuple[int, int] = LAPTOP) -> Iterator[Visit]:
    """Open `path` in a fresh headless Chromium profile and yield the loaded page."""
    from playwright.sync_api import sync_playwright

    url = path.resolve().as_uri()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True
        )
        try:
            width, height = viewport
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            seen = Visit(page, url)
            page.on("request", lambda request: seen.requests.append(request.url))
            page.on("console", lambda message: seen.console.append(message.text))
            page.on("pageerror", lambda error: seen.errors.append(str(error)))
            page.on("dialog", lambda dialog: _dismiss(dialog, seen.dialogs))
            context.route("**/*", lambda route: _only(route, url))
            page.goto(url, wait_until="load", timeout=LOAD_TIMEOUT_MS)
            yield seen
        finally:
            browser.close()


def _only(route: Route, url: str) -> None:
    if route.request.url == url:
        route.continue_()
    else:
        route.abort()


def _dismiss(dialog: Dialog, dialogs: list[str]) -> None:
    dialogs.append(dialog.message)
    dialog.dismiss()


def screenshot(path: Path, shot: Path, viewport: tuple[int, int] = LAPTOP) -> Visit:
    """Load `path` and save a full-page PNG of it to `shot`."""
    with visit(path, viewport) as seen:
        seen.page.screenshot(path=str(shot), full_page=True)
        return seen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshot a page in headless Chromium.")
    parser.add_argument("page", type=Path)
    parser.add_argument("shot", type=Path)
    parser.add_argument("--phone", action="store_true", help=f"a {PHONE[0]}px wide viewport")
    args = parser.parse_args(argv)
    missing = browser_missing()
    if missing:
        parser.error(missing)
    seen = screenshot(args.page, args.shot, PHONE if args.phone else LAPTOP)
    for what in ("requests", "console", "errors", "dialogs"):
        found = seen.foreign_requests() if what == "requests" else getattr(seen, what)
        print(f"{what}: {found or 'none'}")
    print(f"wrote {args.shot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
