"""`FakeProlific`: a real HTTP server on 127.0.0.1 that behaves like Prolific for the endpoints we use.

Tests run the real `ProlificClient` (and the provider and bonus code above it) against this server, so
it must refuse what Prolific refuses — the rules are the ones written down in the docstring of
`humaneval/crowd/prolific/api.py` ("What Prolific's reference says") — and answer in Prolific's shapes.
It records every call (method, path, JSON body, status) so tests can assert the exact requests, and it
can hold a reply after the effect (`hold_after`) to play a crash between "Prolific did it" and "we
recorded it". Paying a bulk bonus twice pays twice, as Prolific warns, so a test can prove we never do.

Participants are played from the test side: `participant_starts`, `participant_completes`,
`participant_returns`, `participant_times_out`.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from humaneval.crowd.prolific.api import REJECTION_CATEGORIES, REJECTION_MESSAGE_MIN_CHARS

API_PREFIX = "/api/v1"
REQUIRED_STUDY_FIELDS = ("name", "description", "external_study_url", "prolific_id_option", "completion_codes",
                         "total_available_places", "estimated_completion_time", "reward")
EDITABLE_WHEN_PUBLISHED = frozenset({"internal_name", "total_available_places"})
PROLIFIC_ID_OPTIONS = ("question", "url_parameters", "not_required")
DEVICES = ("desktop", "tablet", "mobile")
GROUP_FILTERS = ("participant_group_allowlist", "participant_group_blocklist")
# Statuses whose submission holds a study place (RETURNED, TIMED-OUT and REJECTED free it).
HOLDS_PLACE = frozenset({"RESERVED", "ACTIVE", "PROCESSING", "AWAITING REVIEW", "APPROVED"})
# The fake's service fee on bonuses, so `fees` and `total_amount` are not zero; not Prolific's rate.
BONUS_FEE_RATE = Decimal("0.333")
STUDY_TRANSITIONS = {  # action -> (statuses it is allowed from, status it leads to)
    "PUBLISH": (("UNPUBLISHED",), "ACTIVE"),
    "PAUSE": (("ACTIVE",), "PAUSED"),
    "START": (("PAUSED",), "ACTIVE"),
    "STOP": (("ACTIVE", "PAUSED", "AWAITING REVIEW"), "COMPLETED"),
}
HOLD_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Call:
    """One request as the server saw it; `path` is below /api/v1 and includes the query string."""

    method: str
    path: str
    body: dict | None
    status: int


class Refused(Exception):
    """A Prolific-shaped refusal: the handler answers `status` with `detail` in Prolific's error body."""

    def __init__(self, status: int, detail: str | dict) -> None:
        super().__init__(str(detail))
        self.status = status
        self.detail = detail


class FakeProlific:
    """The server and its state; use as a context manager (started on enter, stopped on exit)."""

    def __init__(self, token: str = "test-token", *, processing_reads: int = 2, page_size: int = 50) -> None:
        self.token = token
        self.processing_reads = processing_reads
        self.page_size = page_size
        self.calls: list[Call] = []
        self.studies: dict[str, dict] = {}
        self.submissions: dict[str, dict] = {}
        self.bonuses: dict[str, dict] = {}
        self.groups: dict[str, dict] = {}
        self.workspaces: dict[str, dict] = {}
        self.projects: dict[str, dict] = {}
        self.completions: list[str] = []  # the ?cc= of every visit to the completion page
        self.user = {"id": "researcher-1", "name": "Test Researcher", "email": "researcher@example.org"}
        self._paid: dict[str, list[str]] = {}
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._holds: list[tuple[str, re.Pattern[str]]] = []
        self._released = threading.Event()
        self._failures: list[list[Any]] = []  # [method, pattern, status, times left]
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., tuple[int, Any]]]] = [
            ("GET", re.compile(r"/users/me/"), self._me),
            ("GET", re.compile(r"/workspaces/"), self._list_workspaces),
            ("POST", re.compile(r"/workspaces/"), self._create_workspace),
            ("GET", re.compile(r"/workspaces/([^/]+)/projects/"), self._list_projects),
            ("POST", re.compile(r"/workspaces/([^/]+)/projects/"), self._create_project),
            ("POST", re.compile(r"/studies/"), self._create_study),
            ("GET", re.compile(r"/studies/([^/]+)/"), self._get_study),
            ("PATCH", re.compile(r"/studies/([^/]+)/"), self._update_study),
            ("POST", re.compile(r"/studies/([^/]+)/transition/"), self._transition_study),
            ("GET", re.compile(r"/studies/([^/]+)/submissions/"), self._list_submissions),
            ("GET", re.compile(r"/submissions/([^/]+)/"), self._get_submission),
            ("POST", re.compile(r"/submissions/bonus-payments/"), self._create_bonus),
            ("POST", re.compile(r"/submissions/([^/]+)/transition/"), self._transition_submission),
            ("POST", re.compile(r"/bulk-bonus-payments/([^/]+)/pay/"), self._pay_bonus),
            ("GET", re.compile(r"/participant-groups/"), self._list_groups),
            ("POST", re.compile(r"/participant-groups/"), self._create_group),
            ("GET", re.compile(r"/participant-groups/([^/]+)/participants/"), self._list_members),
            ("POST", re.compile(r"/participant-groups/([^/]+)/participants/"), self._add_members),
            ("DELETE", re.compile(r"/participant-groups/([^/]+)/participants/"), self._remove_members),
        ]

    # --- lifecycle ---

    def __enter__(self) -> FakeProlific:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-prolific", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    @property
    def origin(self) -> str:
        assert self._server is not None, "use FakeProlific as a context manager"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.origin + API_PREFIX

    @property
    def completion_url(self) -> str:
        return self.origin + "/submissions/complete"

    # --- test controls ---

    def hold_after(self, method: str, path_pattern: str) -> None:
        """Apply the effect of matching requests, then keep their reply until `release()`."""
        self._released.clear()
        self._holds.append((method, re.compile(path_pattern)))

    def release(self) -> None:
        self._holds.clear()
        self._released.set()

    def fail_next(self, method: str, path_pattern: str, status: int, times: int = 1) -> None:
        """Answer the next `times` matching requests with `status` and no effect (a 503, a 429, ...)."""
        self._failures.append([method, re.compile(path_pattern), status, times])

    def paid_bonuses(self, participant_id: str) -> list[str]:
        """Every bonus amount actually paid to the participant, once per payment made."""
        with self._lock:
            return list(self._paid.get(participant_id, []))

    def calls_to(self, method: str, path_pattern: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.fullmatch(path_pattern, c.path)]

    # --- participants (played by the test) ---

    def participant_starts(self, study_id: str, participant_id: str) -> str:
        """A participant takes a place: a new ACTIVE submission, or ValueError saying why Prolific would
        not let them in (study not active, no place left, already took part, filtered out by a group)."""
        with self._lock:
            study = self.studies[study_id]
            if study["status"] != "ACTIVE":
                raise ValueError(f"study {study_id} is {study['status']}, not ACTIVE")
            if self._places_taken(study_id) >= study["total_available_places"]:
                raise ValueError(f"study {study_id} has no place left")
            if any(s["participant"] == participant_id for s in self._study_submissions(study_id)):
                raise ValueError(f"{participant_id} already took part in study {study_id}")
            for f in study.get("filters") or []:
                members = set().union(*(self.groups[g]["participant_ids"] for g in f["selected_values"]
                                        if g in self.groups)) if f["filter_id"] in GROUP_FILTERS else set()
                if f["filter_id"] == "participant_group_blocklist" and participant_id in members:
                    raise ValueError(f"{participant_id} is in a blocklist group of study {study_id}")
                if f["filter_id"] == "participant_group_allowlist" and participant_id not in members:
                    raise ValueError(f"{participant_id} is not in the allowlist groups of study {study_id}")
            submission_id = self._new_id("sub")
            self.submissions[submission_id] = {
                "id": submission_id, "study_id": study_id, "participant": participant_id, "status": "ACTIVE",
                "started_at": "2026-01-01T00:00:00Z", "completed_at": None, "entered_code": None,
                "bonus_payments": [], "return_requested": None,
            }
            return submission_id

    def participant_completes(self, submission_id: str, code: str) -> None:
        """The participant lands on the completion URL with `code`: PROCESSING for the next
        `processing_reads` reads of the submission, then AWAITING REVIEW."""
        with self._lock:
            submission = self.submissions[submission_id]
            if submission["status"] != "ACTIVE":
                raise ValueError(f"submission {submission_id} is {submission['status']}, not ACTIVE")
            codes = [c["code"] for c in self.studies[submission["study_id"]]["completion_codes"]]
            if code not in codes:
                raise ValueError(f"{code!r} is not a completion code of study {submission['study_id']}")
            submission.update(status="PROCESSING", entered_code=code, completed_at="2026-01-01T00:10:00Z",
                              _processing_reads=self.processing_reads)
            self._settle(submission["study_id"])

    def participant_returns(self, submission_id: str) -> None:
        self._leave(submission_id, "RETURNED")

    def participant_times_out(self, submission_id: str) -> None:
        self._leave(submission_id, "TIMED-OUT")

    def _leave(self, submission_id: str, status: str) -> None:
        with self._lock:
            submission = self.submissions[submission_id]
            if submission["status"] != "ACTIVE":
                raise ValueError(f"submission {submission_id} is {submission['status']}, not ACTIVE")
            submission["status"] = status
            self._settle(submission["study_id"])

    # --- request handling (called by the handler thread) ---

    def handle(self, method: str, raw_path: str, headers: Any, raw_body: bytes) -> tuple[int, Any]:
        split = urllib.parse.urlsplit(raw_path)
        path = split.path[len(API_PREFIX):] if split.path.startswith(API_PREFIX) else split.path
        recorded = path + (f"?{split.query}" if split.query else "")
        body: dict | None = None
        try:
            if raw_body:
                try:
                    body = json.loads(raw_body)
                except ValueError:
                    raise Refused(400, "JSON parse error") from None
            if headers.get("Authorization") != f"Token {self.token}":
                raise Refused(401, "Invalid token.")
            status, answer = self._dispatch(method, path, urllib.parse.parse_qs(split.query), body)
        except Refused as refused:
            status, answer = refused.status, _error_body(refused.status, refused.detail)
        with self._lock:
            self.calls.append(Call(method, recorded, body, status))
        if status < 400 and any(m == method and p.fullmatch(path) for m, p in self._holds):
            self._released.wait(HOLD_TIMEOUT_S)
        return status, answer

    def _dispatch(self, method: str, path: str, query: dict[str, list[str]], body: dict | None) -> tuple[int, Any]:
        with self._lock:
            failure = next((f for f in self._failures if f[0] == method and f[1].fullmatch(path) and f[3] > 0), None)
            if failure is not None:
                failure[3] -= 1
                raise Refused(failure[2], "Service unavailable, try again later.")
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                with self._lock:
                    return handler(*match.groups(), query=query, body=body or {})
        if any(p.fullmatch(path) for _, p, _ in self._routes):
            raise Refused(405, f'Method "{method}" not allowed.')
        raise Refused(404, "Not found.")

    # --- endpoints ---

    def _me(self, **_: Any) -> tuple[int, Any]:
        return 200, dict(self.user)

    def _list_workspaces(self, *, query: dict, **_: Any) -> tuple[int, Any]:
        return 200, self._page("/workspaces/", list(self.workspaces.values()), query)

    def _create_workspace(self, *, body: dict, **_: Any) -> tuple[int, Any]:
        _require_str(body, "title")
        workspace = {"id": self._new_id("ws"), "title": body["title"], "description": body.get("description", ""),
                     "owner": self.user["id"], "projects": []}
        self.workspaces[workspace["id"]] = workspace
        return 201, dict(workspace)

    def _list_projects(self, workspace_id: str, *, query: dict, **_: Any) -> tuple[int, Any]:
        self._workspace(workspace_id)
        projects = [p for p in self.projects.values() if p["workspace"] == workspace_id]
        return 200, self._page(f"/workspaces/{workspace_id}/projects/", projects, query)

    def _create_project(self, workspace_id: str, *, body: dict, **_: Any) -> tuple[int, Any]:
        self._workspace(workspace_id)
        _require_str(body, "title")
        project = {"id": self._new_id("proj"), "title": body["title"], "workspace": workspace_id,
                   "owner": self.user["id"], "description": body.get("description", "")}
        self.projects[project["id"]] = project
        return 201, dict(project)

    def _create_study(self, *, body: dict, **_: Any) -> tuple[int, Any]:
        missing = [f for f in REQUIRED_STUDY_FIELDS if f not in body]
        if missing:
            raise Refused(400, {f: ["This field is required."] for f in missing})
        self._check_study_fields(body)
        study = {**body, "id": self._new_id("study"), "status": "UNPUBLISHED", "internal_name": body.get("internal_name", "")}
        self.studies[study["id"]] = study
        return 201, self._study_view(study)

    def _get_study(self, study_id: str, **_: Any) -> tuple[int, Any]:
        return 200, self._study_view(self._study(study_id))

    def _update_study(self, study_id: str, *, body: dict, **_: Any) -> tuple[int, Any]:
        study = self._study(study_id)
        if study["status"] == "COMPLETED":
            raise Refused(400, "A completed study cannot be edited.")
        if study["status"] != "UNPUBLISHED":
            locked = sorted(set(body) - EDITABLE_WHEN_PUBLISHED)
            if locked:
                raise Refused(400, {f: ["This field cannot be changed once the study is published."] for f in locked})
        self._check_study_fields(body)
        places = body.get("total_available_places")
        if study["status"] != "UNPUBLISHED" and places is not None and places < study["total_available_places"]:
            raise Refused(400, {"total_available_places": [
                f"Places can only be increased once published (currently {study['total_available_places']})."]})
        study.update(body)
        self._settle(study_id)
        return 200, self._study_view(study)

    def _transition_study(self, study_id: str, *, body: dict, **_: Any) -> tuple[int, Any]:
        study = self._study(study_id)
        action = body.get("action")
        if action not in STUDY_TRANSITIONS:
            raise Refused(400, {"action": [f'"{action}" is not a valid choice.']})
        allowed_from, to = STUDY_TRANSITIONS[action]
        if study["status"] not in allowed_from:
            raise Refused(400, f"Cannot {action} a study that is {study['status']}.")
        study["status"] = to
        self._settle(study_id)
        return 200, self._study_view(study)

    def _list_submissions(self, study_id: str, *, query: dict, **_: Any) -> tuple[int, Any]:
        self._study(study_id)
        views = [self._submission_view(s) for s in self._study_submissions(study_id)]
        return 200, self._page(f"/studies/{study_id}/submissions/", views, query)

    def _get_submission(self, submission_id: str, **_: Any) -> tuple[int, Any]:
        submission = self._submission(submission_id)
        if submission["status"] == "PROCESSING":
            if submission["_processing_reads"] > 0:
                submission["_processing_reads"] -= 1
            else:
                submission["status"] = "AWAITING REVIEW"
                self._settle(submission["study_id"])
        return 200, self._submission_view(submission)

    def _transition_submission(self, submission_id: str, *, body: dict, **_: Any) -> tuple[int, Any]:
        submission = self._submission(submission_id)
        action = body.get("action")
        target = {"APPROVE": "APPROVED", "REJECT": "REJECTED"}.get(action)  # type: ignore[arg-type]
        if target is None:
            raise Refused(400, {"action": [f'"{action}" is not a valid choice.']})
        if action == "REJECT":
            message = body.get("message")
            if not isinstance(message, str) or len(message) < REJECTION_MESSAGE_MIN_CHARS:
                raise Refused(400, {"message": [
                    f"A rejection message of at least {REJECTION_MESSAGE_MIN_CHARS} characters is required."]})
            if body.get("rejection_category") not in REJECTION_CATEGORIES:
                raise Refused(400, {"rejection_category": [
                    f'"{body.get("rejection_category")}" is not a valid choice.']})
        if submission["status"] == target:  # documented idempotent: the same request again is ignored
            return 200, self._submission_view(submission)
        if submission["status"] != "AWAITING REVIEW":
            raise Refused(400, f"Cannot {action} a submission that is {submission['status']}.")
        submission["status"] = target
        self._settle(submission["study_id"])
        return 200, self._submission_view(submission)

    def _create_bonus(self, *, body: dict, **_: Any) -> tuple[int, Any]:
        study_id = body.get("study_id")
        if not isinstance(study_id, str) or study_id not in self.studies:
            raise Refused(400, {"study_id": ["A valid study id is required."]})
        csv = body.get("csv_bonuses")
        if not isinstance(csv, str) or not csv.strip():
            raise Refused(400, {"csv_bonuses": ["This field is required."]})
        taken = {s["participant"]: s["id"] for s in self._study_submissions(study_id)}
        rows, wrong = [], []
        for line in csv.strip("\n").split("\n"):
            who, _, amount = line.partition(",")
            try:
                value = Decimal(amount)
            except InvalidOperation:
                raise Refused(400, {"csv_bonuses": [f"Invalid amount {amount!r} for {who}."]}) from None
            if value <= 0 or value != value.quantize(Decimal("0.01")):
                raise Refused(400, {"csv_bonuses": [f"Invalid amount {amount!r} for {who}."]})
            participant = who if who in taken else next((p for p, s in taken.items() if s == who), None)
            if participant is None:
                wrong.append(who)
            rows.append((participant, amount))
        if wrong:
            raise Refused(400, {"csv_bonuses": [f"These ids did not take part in the study: {', '.join(wrong)}"]})
        cents = sum(Decimal(a) for _, a in rows) * 100
        fees = (cents * BONUS_FEE_RATE).quantize(Decimal("1"))
        bulk = {"id": self._new_id("bonus"), "study": study_id, "csv_bonuses": csv, "rows": rows,
                "amount": float(cents), "fees": float(fees), "total_amount": float(cents + fees), "times_paid": 0}
        self.bonuses[bulk["id"]] = bulk
        return 201, {k: bulk[k] for k in ("id", "study", "amount", "fees", "total_amount")}

    def _pay_bonus(self, bulk_id: str, **_: Any) -> tuple[int, Any]:
        bulk = self.bonuses.get(bulk_id)
        if bulk is None:
            raise Refused(404, "Not found.")
        bulk["times_paid"] += 1  # not idempotent: every call pays
        for participant, amount in bulk["rows"]:
            self._paid.setdefault(participant, []).append(amount)
            for s in self._study_submissions(bulk["study"]):
                if s["participant"] == participant:
                    s["bonus_payments"].append(float(Decimal(amount) * 100))
        return 202, None

    def _list_groups(self, *, query: dict, **_: Any) -> tuple[int, Any]:
        workspace, project = query.get("workspace_id", [None])[0], query.get("project_id", [None])[0]
        if workspace is None and project is None:
            raise Refused(400, "A workspace_id or project_id is required.")
        groups = [self._group_view(g) for g in self.groups.values()
                  if (workspace is None or g["workspace_id"] == workspace)
                  and (project is None or g.get("project_id") == project)]
        return 200, {"results": groups}

    def _create_group(self, *, body: dict, **_: Any) -> tuple[int, Any]:
        _require_str(body, "name")
        if not body.get("workspace_id") and not body.get("organisation_id"):
            raise Refused(400, "Either a workspace or organisation ID must be specified.")
        if body.get("workspace_id") and body["workspace_id"] not in self.workspaces:
            raise Refused(400, {"workspace_id": ["Workspace not found."]})
        group = {"id": self._new_id("pg"), "name": body["name"], "workspace_id": body.get("workspace_id"),
                 "organisation_id": body.get("organisation_id"), "project_id": body.get("project_id"),
                 "description": body.get("description", ""),
                 "participant_ids": list(dict.fromkeys(_id_list(body, required=False)))}
        self.groups[group["id"]] = group
        return 201, self._group_view(group)

    def _list_members(self, group_id: str, *, query: dict, **_: Any) -> tuple[int, Any]:
        members = [{"participant_id": p, "datetime_created": "2026-01-01T00:00:00Z"}
                   for p in self._group(group_id)["participant_ids"]]
        return 200, self._page(f"/participant-groups/{group_id}/participants/", members, query)

    def _add_members(self, group_id: str, *, body: dict, **_: Any) -> tuple[int, Any]:
        group = self._group(group_id)
        group["participant_ids"] = list(dict.fromkeys(group["participant_ids"] + _id_list(body)))
        return 200, {"results": [{"participant_id": p} for p in group["participant_ids"]]}

    def _remove_members(self, group_id: str, *, body: dict, **_: Any) -> tuple[int, Any]:
        group = self._group(group_id)
        gone = set(_id_list(body))
        group["participant_ids"] = [p for p in group["participant_ids"] if p not in gone]
        return 200, {"results": [{"participant_id": p} for p in group["participant_ids"]]}

    # --- state helpers ---

    def _check_study_fields(self, body: dict) -> None:
        """Prolific's type checks on the study fields present in a create or an update."""
        errors: dict[str, list[str]] = {}
        for field in ("reward", "total_available_places", "estimated_completion_time"):
            if field in body and (type(body[field]) is not int or body[field] < 1):
                errors[field] = ["A positive integer is required."]
        for field in ("name", "description", "internal_name"):
            if field in body and not isinstance(body[field], str):
                errors[field] = ["Not a valid string."]
        url = body.get("external_study_url")
        if "external_study_url" in body and not (isinstance(url, str) and url.startswith(("https://", "http://"))):
            errors["external_study_url"] = ["Enter a valid URL."]
        if "prolific_id_option" in body and body["prolific_id_option"] not in PROLIFIC_ID_OPTIONS:
            errors["prolific_id_option"] = [f'"{body["prolific_id_option"]}" is not a valid choice.']
        if "completion_codes" in body and not _valid_completion_codes(body["completion_codes"]):
            errors["completion_codes"] = ["At least one completion code {code, code_type, actions}, codes unique."]
        devices = body.get("device_compatibility")
        if "device_compatibility" in body and not (isinstance(devices, list) and set(devices) <= set(DEVICES)):
            errors["device_compatibility"] = [f"Each device must be one of {', '.join(DEVICES)}."]
        if "filters" in body and not _valid_filters(body["filters"]):
            errors["filters"] = ["Each filter needs a filter_id and selected_values or selected_range."]
        if errors:
            raise Refused(400, errors)

    def _settle(self, study_id: str) -> None:
        """Prolific's automatic study statuses: ACTIVE while places are open or someone is working,
        AWAITING REVIEW once full with nobody active, COMPLETED when nothing is left to review."""
        study = self.studies[study_id]
        if study["status"] not in ("ACTIVE", "AWAITING REVIEW"):
            return
        subs = self._study_submissions(study_id)
        full = self._places_taken(study_id) >= study["total_available_places"]
        working = any(s["status"] in ("RESERVED", "ACTIVE") for s in subs)
        if not full or working:
            study["status"] = "ACTIVE"
        elif any(s["status"] in ("PROCESSING", "AWAITING REVIEW") for s in subs):
            study["status"] = "AWAITING REVIEW"
        else:
            study["status"] = "COMPLETED"

    def _places_taken(self, study_id: str) -> int:
        return sum(s["status"] in HOLDS_PLACE for s in self._study_submissions(study_id))

    def _study_submissions(self, study_id: str) -> list[dict]:
        return [s for s in self.submissions.values() if s["study_id"] == study_id]

    def _study_view(self, study: dict) -> dict:
        subs = self._study_submissions(study["id"])
        return {**study, "places_taken": self._places_taken(study["id"]), "number_of_submissions": len(subs)}

    @staticmethod
    def _submission_view(submission: dict) -> dict:
        return {k: v for k, v in submission.items() if not k.startswith("_")}

    def _group_view(self, group: dict) -> dict:
        view = {k: v for k, v in group.items() if k != "participant_ids"}
        return {**view, "participant_count": len(group["participant_ids"]), "is_deleted": False}

    def _page(self, path: str, items: list, query: dict) -> dict:
        page = int(query.get("page", ["1"])[0])
        start = (page - 1) * self.page_size
        more = start + self.page_size < len(items)
        next_link = {"href": f"{self.api_url}{path}?page={page + 1}"} if more else None
        return {"results": items[start:start + self.page_size], "_links": {"next": next_link},
                "meta": {"count": len(items)}}

    def _study(self, study_id: str) -> dict:
        return self._found(self.studies, study_id)

    def _submission(self, submission_id: str) -> dict:
        return self._found(self.submissions, submission_id)

    def _group(self, group_id: str) -> dict:
        return self._found(self.groups, group_id)

    def _workspace(self, workspace_id: str) -> dict:
        return self._found(self.workspaces, workspace_id)

    @staticmethod
    def _found(table: dict[str, dict], key: str) -> dict:
        if key not in table:
            raise Refused(404, "Not found.")
        return table[key]

    def _new_id(self, kind: str) -> str:
        return f"{kind}{next(self._ids):06d}"


class _Handler(BaseHTTPRequestHandler):
    owner: FakeProlific

    def do_GET(self) -> None:  # noqa: N802 (http.server's names)
        if urllib.parse.urlsplit(self.path).path == "/submissions/complete":
            self._completion_page()
        else:
            self._api("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._api("POST")

    def do_PATCH(self) -> None:  # noqa: N802
        self._api("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._api("DELETE")

    def _api(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, answer = self.owner.handle(method, self.path, self.headers, raw)
        payload = json.dumps(answer).encode() if answer is not None else b""
        self._reply(status, payload, "application/json")

    def _completion_page(self) -> None:
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("cc", [""])[0]
        with self.owner._lock:
            self.owner.completions.append(code)
        # no favicon request: the browser would ask this fake's API for /favicon.ico and log its 401 as a page error
        self._reply(200, b'<!doctype html><title>Study complete</title><link rel="icon" href="data:,"><p>Thank you.</p>',
                    "text/html")

    def _reply(self, status: int, payload: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a held reply): Prolific's effect stands all the same

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        pass  # the calls are recorded in `owner.calls`; stderr stays quiet


def _error_body(status: int, detail: str | dict) -> dict:
    titles = {400: "Bad request.", 401: "Unauthorized.", 404: "Not found.", 405: "Method not allowed."}
    return {"error": {"status": status, "title": titles.get(status, "Error."), "detail": detail}}


def _require_str(body: dict, field: str) -> None:
    if not isinstance(body.get(field), str) or not body[field].strip():
        raise Refused(400, {field: ["This field is required."]})


def _id_list(body: dict, *, required: bool = True) -> list[str]:
    ids = body.get("participant_ids")
    if ids is None and not required:
        return []
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        raise Refused(400, {"participant_ids": ["A list of participant ids is required."]})
    return ids


def _valid_completion_codes(codes: Any) -> bool:
    if not isinstance(codes, list) or not codes:
        return False
    for c in codes:
        if not (isinstance(c, dict) and isinstance(c.get("code"), str) and c["code"]
                and isinstance(c.get("code_type"), str) and isinstance(c.get("actions"), list)):
            return False
    return len({c["code"] for c in codes}) == len(codes)


def _valid_filters(filters: Any) -> bool:
    return isinstance(filters, list) and all(
        isinstance(f, dict) and isinstance(f.get("filter_id"), str)
        and (isinstance(f.get("selected_values"), list) or isinstance(f.get("selected_range"), dict))
        for f in filters)
