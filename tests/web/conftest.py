"""The portal served for real (uvicorn on a free loopback port, in a thread) over the
published site of :mod:`tests.api.conftest`, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import sync_playwright

from carepool.api import create_app
from carepool.config import Settings
from tests.api.conftest import Site, prepared_site, published_site, site  # noqa: F401 (fixtures)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def portal(site: Site) -> Iterator[str]:  # noqa: F811
    """The portal's address, served until the test ends."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(Settings.from_env()), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the portal did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    found = os.environ.get("CAREPOOL_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail("no chromium: `make test` installs Debian's (apt-get install chromium)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=found, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies), failing the test on any script error."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    # a page answered with a 4xx on purpose (a refused form) logs "Failed to load resource";
    # any other console error is a fault
    tab.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    yield tab
    context.close()
    assert errors == [], errors
