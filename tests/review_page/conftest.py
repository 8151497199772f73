"""Fixtures for the review page: one finished ACUTE sandbox study per session, a private copy per test, and
the page's server on that copy (in this process, on a free loopback port)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

import humaneval.crowd  # noqa: F401  (Mephisto through the compat layer)
from humaneval.crowd.data_dir import open_database
from humaneval.crowd.review_audit import ReviewAudit
from humaneval.review_page.app import create_app
from humaneval.review_page.cli import LIMITS, _host_names
from humaneval.review_page.study_data import StudyData
from humaneval.web.waitress_serving import RunningServer, serve_app
from tests.review_page.support import TASK, build_study, copy_study

TOKEN = "review-test-token-0123456789"


@pytest.fixture(scope="session")
def built_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_study(tmp_path_factory.mktemp("review-study"))


@pytest.fixture()
def study_dir(built_study: Path, tmp_path: Path) -> Path:
    return copy_study(built_study, tmp_path)


@dataclass
class ReviewServer:
    running: RunningServer
    data_dir: Path
    audit: ReviewAudit

    @property
    def url(self) -> str:
        return self.running.url

    def get(self, path: str, **kwargs: object) -> requests.Response:
        headers = {"Authorization": f"Bearer {TOKEN}", **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        return requests.get(self.url + path, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]

    def post(self, path: str, body: object, **kwargs: object) -> requests.Response:
        headers = {"Authorization": f"Bearer {TOKEN}", **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        return requests.post(self.url + path, json=body, headers=headers, timeout=60, **kwargs)  # type: ignore[arg-type]


def start_review_server(data_dir: Path, task_name: str = TASK) -> ReviewServer:
    """The page's server as `review serve` starts it, on a free loopback port, with token `TOKEN`."""
    db = open_database(data_dir)
    audit = ReviewAudit.in_data_dir(db.db_root)
    hosts: set[str] = set()
    app = create_app(StudyData(db, task_name), audit, token=TOKEN, reviewer="tester", allowed_hosts=hosts)
    running = serve_app(app, host="127.0.0.1", port=0, token_required=True, limits=LIMITS)
    hosts.update(_host_names("127.0.0.1", running.port) or ())
    return ReviewServer(running, data_dir, audit)


@pytest.fixture()
def review_server(study_dir: Path) -> Iterator[ReviewServer]:
    server = start_review_server(study_dir)
    yield server
    server.running.stop()
