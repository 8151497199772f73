"""`python -m humaneval.crowd review serve --task-name T`: the review page of a task, until Ctrl-C."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import secrets
import signal
import sys
import threading
from pathlib import Path

from humaneval.crowd.data_dir import DATA_DIR_ENV, data_faults_reported, open_existing_database
from humaneval.crowd.launcher import console_logging
from humaneval.crowd.review_audit import AUDIT_FILE, ReviewAudit
from humaneval.input_errors import InputError, exit_on_input_error
from humaneval.review_page.app import MAX_REQUEST_BYTES, create_app
from humaneval.review_page.study_data import StudyData
from humaneval.web.addresses import is_loopback
from humaneval.web.waitress_serving import ServerLimits, serve_app

PROG = "python -m humaneval.crowd review serve"
TOKEN_ENV = "HUMANEVAL_REVIEW_TOKEN"
MIN_TOKEN_CHARS = 16
# One worker thread: actions, reads and reloads of the page run one at a time, like a reviewer at a terminal.
LIMITS = ServerLimits(max_request_bytes=MAX_REQUEST_BYTES, read_timeout_s=30, max_connections=32, worker_threads=1)

DESCRIPTION = f"""\
Serve a review page for a task (all its runs): every worker with their units, counts, median time, onboarding
and gold results and the analysis's flags (`python -m analysis` with its default thresholds, over the same
records `crowd export` writes); each worker's work as they saw it; approve, reject (with a reason), bonus,
soft-block and block one worker or all selected, after a confirmation that says what will be paid or
rejected. Actions run through the same code as `review approve|reject|bonus|soft-block|block`, are written to
<data dir>/{AUDIT_FILE} (who, what, when, the provider's answer), and a double click or a retried request
never acts twice.

The page listens on 127.0.0.1 and always needs a token: ${TOKEN_ENV} if set, else a new random one, printed
in the address to open (`#token=…`, which browsers never send to a server). See docs/review.md."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task-name", required=True, help="the task name the run was launched with")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help=f"Mephisto data directory (default: ${DATA_DIR_ENV} or ./data/mephisto)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="bind address (default 127.0.0.1; any other address is reachable from other machines "
                        "over plain HTTP: put a TLS proxy in front)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free one, printed on start)")
    parser.add_argument("--reviewer", default=None,
                        help="your name in the audit log (default: your login name)")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="logging level on stderr (default WARNING)")
    return parser


def _host_names(host: str, port: int) -> set[str] | None:
    """The `Host` headers a browser sends for a loopback server (its own address and the loopback names); None
    (any) beyond loopback, where the token alone guards it: proxies and DNS names there are the user's own."""
    if not is_loopback(host):
        return None
    shown = f"[{host}]" if ":" in host else host
    return {f"{shown}:{port}".lower(), f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}


@exit_on_input_error
def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if not 0 <= args.port <= 65535:
        raise InputError(f"a port from 0 to 65535, got {args.port}", field="--port")
    env_token = os.environ.get(TOKEN_ENV, "").strip()
    if env_token and len(env_token) < MIN_TOKEN_CHARS:
        raise InputError(f"${TOKEN_ENV} is {len(env_token)} characters; use at least {MIN_TOKEN_CHARS} (e.g. "
                         "`python -c 'import secrets; print(secrets.token_urlsafe(24))'`), or unset it for a random one",
                         field=TOKEN_ENV)
    token = env_token or secrets.token_urlsafe(24)
    reviewer = (args.reviewer or getpass.getuser()).strip()
    if not reviewer:
        raise InputError("an empty reviewer name", field="--reviewer")
    db = open_existing_database(args.data_dir)
    stop = threading.Event()
    with console_logging(), data_faults_reported(db):
        logging.getLogger().setLevel(args.log_level)
        print(f"reading task '{args.task_name}' and running its analysis…", flush=True)
        try:
            study = StudyData(db, args.task_name)
        except InputError as err:
            raise InputError(err.problem, path=err.path, line=err.line, field="--task-name") from None
        for sig in (signal.SIGINT, signal.SIGTERM):  # only now: a refused start leaves the caller's handlers alone
            signal.signal(sig, lambda *_: stop.set())
        hosts: set[str] | None = set() if is_loopback(args.host) else None  # filled once the port is known
        app = create_app(study, ReviewAudit.in_data_dir(db.db_root), token=token, reviewer=reviewer,
                         allowed_hosts=hosts)
        try:
            running = serve_app(app, host=args.host, port=args.port, token_required=True, limits=LIMITS,
                                name="review-page")
        except (OSError, ValueError) as err:
            print(f"error: cannot listen on {args.host}:{args.port} ({getattr(err, 'strerror', None) or err})",
                  file=sys.stderr)
            return 1
        if hosts is not None:
            hosts.update(_host_names(args.host, running.port) or ())
        workers = study.workers()
        print(f"{len(workers)} worker(s), {sum(len(w.units) for w in workers)} unit(s); "
              f"{study.flags.note or f'{sum(bool(w.quality.flags) for w in workers)} flagged by the analysis'}")
        fragment = "#token=<$" + TOKEN_ENV + ">" if env_token else f"#token={token}"
        print(f"review page for '{args.task_name}': {running.url}/{fragment}", flush=True)
        print(f"reviewer: {reviewer}; actions are logged to {Path(db.db_root) / AUDIT_FILE}; Ctrl-C stops", flush=True)
        try:
            stop.wait()
        finally:
            print("shutting down", flush=True)
            running.stop()
    return 0
