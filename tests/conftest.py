"""Shared pytest fixtures: a real headless Debian Chromium for browser tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# Flags that keep Chromium quiet on a machine with no network but the package registries.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def open_chromium() -> Iterator[object]:
    """A Playwright Browser on Debian's /usr/bin/chromium (never Playwright's own download)."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian chromium is not installed: run `apt-get install chromium` (.ci/run does)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture()
def chromium() -> Iterator[object]:
    """Function-scoped on purpose: Playwright's sync API keeps an asyncio loop running on this thread
    while it is open, and Mephisto's Operator refuses to start on such a thread, so a browser kept
    open across tests would break every later test that launches a task run."""
    with open_chromium() as browser:
        yield browser


@pytest.fixture()
def page(chromium: object) -> Iterator[object]:
    """A fresh page whose console errors and page errors are collected in `page.errors`."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.fixture(scope="session")
def clean_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """humaneval's wheel built from a clean checkout of this repository (tests/built_wheel.py), once per session."""
    from tests.built_wheel import build_clean_wheel

    return build_clean_wheel(tmp_path_factory.mktemp("clean_wheel"))
