"""Shared pytest fixtures: a real headless Debian Chromium for browser tests, and the wheel of a clean checkout."""

from __future__ import annotations

import fcntl
import os
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


MOST_TEST_WORKERS = 4  # CI measured at 2; more run more Ray instances, model servers and browsers at once


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """The worker count of `-n auto` (scripts/test.sh): one per CPU this process may use (`usable_cpus`, not
    the machine's count), at most MOST_TEST_WORKERS, and none on a single CPU, where a worker process only
    adds start-up and hides `-s` output. PYTEST_XDIST_AUTO_NUM_WORKERS, xdist's own variable, is left to xdist."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    from humaneval.usable_cpus import usable_cpus

    workers = min(usable_cpus(), MOST_TEST_WORKERS)
    return workers if workers > 1 else 0


@pytest.fixture(scope="session")
def clean_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """humaneval's wheel built from a clean checkout of this repository (tests/built_wheel.py), once per test run.

    Under pytest-xdist (scripts/test.sh) each worker is a session of its own; the workers share one build in
    their run's common temporary folder, the first to take the lock building it, instead of each spending
    half a minute on the same wheel."""
    from tests.built_wheel import build_clean_wheel

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return build_clean_wheel(tmp_path_factory.mktemp("clean_wheel"))
    shared = tmp_path_factory.getbasetemp().parent / "clean_wheel"  # this run's folder, not a later run's
    with open(f"{shared}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this worker dies
        if not shared.exists():  # it appears only whole: built aside, then renamed
            partial = shared.with_name("clean_wheel.partial")
            shutil.rmtree(partial, ignore_errors=True)  # what a worker killed mid-build left
            partial.mkdir()
            build_clean_wheel(partial)
            partial.rename(shared)
        [wheel] = (shared / "wheels").glob("humaneval-*.whl")
        return wheel
