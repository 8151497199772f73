"""`ProlificClient`: the only code that speaks HTTP to Prolific.

Everything else in the toolkit (the `prolific` crowd provider, bonuses, blocks) calls these methods, so
the rules that keep money and tokens safe live here once: the token never leaves over plain HTTP and
never appears in a log line, a `repr` or an exception; a request that may already have had its effect
is retried only where Prolific documents that repeating it is harmless; paying a bulk bonus is never
retried, because Prolific pays it again.

What Prolific's reference says
==============================

Read from Prolific's API reference for the endpoints used here: the pages named below are under
https://docs.prolific.com/api-reference/ (``<page>.md`` is the Markdown, ``<section>/llms.txt`` the
index of a section), the guides under https://docs.prolific.com/documentation/. `tests/prolific_fake.py`
enforces exactly this, so a change here is a change there.

* Authentication: header ``Authorization: Token <token>`` (every endpoint page). Base URL
  ``https://api.prolific.com/api/v1``.
* Users: ``GET /users/me/`` returns the researcher (``id``, ...)
  (documentation/get-started/your-first-data-collection).
* Workspaces / projects: ``GET|POST /workspaces/`` (``title``), ``GET|POST /workspaces/{id}/projects/``
  (``title``) (api-reference/workspaces, api-reference/projects).
* Studies (api-reference/studies, studies/get-study): a study is created as a draft (``UNPUBLISHED``)
  with ``POST /studies/`` and published with ``POST /studies/{id}/transition/`` ``{"action": "PUBLISH"}``;
  the other actions are ``PAUSE``, ``START`` (resume) and ``STOP``. Fields we send: ``name``,
  ``internal_name``, ``description``, ``external_study_url`` (with ``{{%PROLIFIC_PID%}}``,
  ``{{%STUDY_ID%}}``, ``{{%SESSION_ID%}}`` placeholders), ``prolific_id_option: "url_parameters"``,
  ``completion_codes`` (at least one, unique in the study, each ``{"code", "code_type": "COMPLETED",
  "actions": [{"action": "MANUALLY_REVIEW"}]}``), ``total_available_places``,
  ``estimated_completion_time`` (minutes), ``reward`` (integer, in the minor unit: pence / cents),
  ``device_compatibility`` (``desktop`` / ``tablet`` / ``mobile``), ``filters`` (``[{"filter_id",
  "selected_values"}]``) and ``project``. Once published, the help centre (researcher-help article
  a9dd41) says the study's details cannot be changed and places can be increased on most studies, the
  reward cannot be reduced; the fake therefore accepts on a published study only ``internal_name`` and a
  ``total_available_places`` that does not shrink (the design's rule; the API reference page itself does
  not list the fields).
* Submissions (submissions/submission-object, get-submission, studies/get-study-submissions):
  ``GET /studies/{id}/submissions/`` lists them (``{"results": [...]}``), ``GET /submissions/{id}/``
  reads one: ``id``, ``study_id``, ``participant``, ``status``, ``started_at``, ``completed_at``,
  ``entered_code`` and ``bonus_payments`` — a list of the bonuses already paid on the submission, in
  pence / cents. Statuses: ``RESERVED``, ``ACTIVE``, ``TIMED-OUT``, ``AWAITING REVIEW``, ``APPROVED``,
  ``RETURNED``, ``REJECTED``, ``SCREENED OUT`` (with a space), ``PARTIALLY APPROVED``; a submission can
  read ``PROCESSING`` for a short time around a change of status (Prolific's own client libraries say
  so; the status list above does not), which is why `transition_submission` waits it out. RETURNED,
  TIMED-OUT and REJECTED free the study place.
* ``POST /submissions/{id}/transition/`` (submissions/transition-submission): ``action`` APPROVE or
  REJECT; REJECT requires ``message`` (at least 100 characters) and ``rejection_category``, one of
  TOO_QUICKLY, TOO_SLOWLY, FAILED_INSTRUCTIONS, INCOMP_LONGITUDINAL, FAILED_CHECK, LOW_EFFORT,
  MALINGERING, NO_CODE, BAD_CODE, NO_DATA, UNSUPP_DEVICE, OTHER. The page says the endpoint is
  idempotent ("the second request will be ignored"), so it is the one transition we retry.
* Bonuses (bonuses/create-bonus-payments, bonuses/pay-bonus-payments):
  ``POST /submissions/bonus-payments/`` ``{"study_id", "csv_bonuses": "<participant or submission
  id>,<amount>\\n..."}`` with amounts in the study currency's major unit ("1.50" is £1.50); every id
  must have taken part in the study or the answer is 400 naming the wrong ids. It only sets the bonus
  up: the answer's ``id`` is then paid with ``POST /bulk-bonus-payments/{id}/pay/`` (asynchronous).
  The answer's ``amount``, ``fees`` and ``total_amount`` are numbers **in cents/pence**, not decimal
  strings. The pay endpoint is documented as **not idempotent**: sending it twice pays twice.
* Participant groups (participant-groups/*): ``POST /participant-groups/`` ``{"name", "workspace_id"
  (or "organisation_id"), "description", "participant_ids"}``; ``GET /participant-groups/`` lists the
  groups of a ``workspace_id`` or ``project_id``; ``POST`` / ``DELETE``
  ``/participant-groups/{id}/participants/`` ``{"participant_ids": [...]}`` add / remove (members already
  in, or not in, are ignored), ``GET`` on the same path lists them. A study uses a group through the
  filters ``participant_group_allowlist`` / ``participant_group_blocklist`` with the group ids as
  ``selected_values``; membership changes apply to published studies at once.
* Errors: a JSON body ``{"error": {"status", "title", "detail", ...}}`` where ``detail`` is a sentence
  or a field → messages object (as Prolific answers; the stored reference pages do not spell it out).
  List answers carry ``results`` and, when there are more pages, ``_links.next.href``.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal, InvalidOperation
from typing import Any

from humaneval.web.addresses import is_loopback

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.prolific.com/api/v1"
MAX_RESPONSE_BYTES = 10 * 1024 * 1024  # a study's submission page is kilobytes; anything near this is wrong
REJECTION_CATEGORIES = (
    "TOO_QUICKLY", "TOO_SLOWLY", "FAILED_INSTRUCTIONS", "INCOMP_LONGITUDINAL", "FAILED_CHECK", "LOW_EFFORT",
    "MALINGERING", "NO_CODE", "BAD_CODE", "NO_DATA", "UNSUPP_DEVICE", "OTHER",
)
REJECTION_MESSAGE_MIN_CHARS = 100
_BONUS_AMOUNT = re.compile(r"^\d+(\.\d{1,2})?$")
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_MAX_BACKOFF_S = 30.0


class ProlificError(Exception):
    """A request Prolific refused (`status` is its HTTP status) or did not answer (`status` is None).

    `status is None` means the outcome is unknown — the request may have had its effect — which is what
    a caller paying money must treat differently from a refusal. The text names the method, the path
    and Prolific's own message; it never holds the token.
    """

    def __init__(self, method: str, path: str, status: int | None, detail: str) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.detail = detail
        answer = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"Prolific {method} {path}: {answer}: {detail}")


class ProlificClient:
    """Prolific's REST API, one method per endpoint the toolkit uses (see the module docstring)."""

    def __init__(self, token: str, base_url: str = DEFAULT_BASE_URL, *, timeout_s: float = 30.0,
                 retries: int = 3, backoff_s: float = 0.5) -> None:
        if not token or not token.strip():
            raise ValueError("a Prolific API token is required")
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("https", "http") or not parsed.hostname:
            raise ValueError(f"Prolific base URL must be an http(s) URL, got {base_url!r}")
        if parsed.scheme == "http" and not is_loopback(parsed.hostname):
            raise ValueError(f"refusing {base_url!r}: the API token would travel in clear; use https "
                             "(plain http is allowed only to a loopback host)")
        if timeout_s <= 0 or retries < 0 or backoff_s < 0:
            raise ValueError("timeout_s must be > 0, retries and backoff_s >= 0")
        self._token = token.strip()
        self.base_url = base_url.rstrip("/")
        self._origin = (parsed.scheme, parsed.netloc)
        self._base_path = parsed.path.rstrip("/")
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s

    def __repr__(self) -> str:
        return f"ProlificClient(base_url={self.base_url!r})"

    # --- account, workspaces, projects ---

    def me(self) -> dict:
        return self._call("GET", "/users/me/", retry=True)

    def list_workspaces(self) -> list[dict]:
        return self._list("/workspaces/")

    def create_workspace(self, title: str) -> dict:
        return self._call("POST", "/workspaces/", {"title": title})

    def list_projects(self, workspace_id: str) -> list[dict]:
        return self._list(f"/workspaces/{_seg(workspace_id)}/projects/")

    def create_project(self, workspace_id: str, title: str) -> dict:
        return self._call("POST", f"/workspaces/{_seg(workspace_id)}/projects/", {"title": title})

    # --- studies ---

    def create_study(self, payload: dict) -> dict:
        """Create a draft study (status UNPUBLISHED); not retried, since a retry could create two."""
        return self._call("POST", "/studies/", payload)

    def get_study(self, study_id: str) -> dict:
        return self._call("GET", f"/studies/{_seg(study_id)}/", retry=True)

    def update_study(self, study_id: str, fields: dict) -> dict:
        return self._call("PATCH", f"/studies/{_seg(study_id)}/", fields, retry=True)

    def transition_study(self, study_id: str, action: str) -> dict:
        """PUBLISH | PAUSE | START | STOP. Not retried: publishing twice is refused, so a lost answer is
        settled by reading the study, not by sending the action again."""
        return self._call("POST", f"/studies/{_seg(study_id)}/transition/", {"action": action})

    # --- submissions ---

    def list_submissions(self, study_id: str) -> list[dict]:
        return self._list(f"/studies/{_seg(study_id)}/submissions/")

    def get_submission(self, submission_id: str) -> dict:
        return self._call("GET", f"/submissions/{_seg(submission_id)}/", retry=True)

    def transition_submission(self, submission_id: str, action: str, *, message: str | None = None,
                              rejection_category: str | None = None, settle_timeout_s: float = 30.0) -> dict:
        """APPROVE or REJECT a submission once it has left Prolific's transient PROCESSING status.

        Prolific refuses to review a submission that reads PROCESSING, and a submission reads so for a
        short while after the participant finishes; waiting here spares every caller that race. If it
        still reads PROCESSING after `settle_timeout_s`, a `ProlificError` with status None says so.
        """
        self._wait_while_processing(submission_id, settle_timeout_s)
        body: dict[str, Any] = {"action": action}
        if message is not None:
            body["message"] = message
        if rejection_category is not None:
            body["rejection_category"] = rejection_category
        # Documented idempotent ("the second request will be ignored"), so a lost answer may be retried.
        return self._call("POST", f"/submissions/{_seg(submission_id)}/transition/", body, retry=True)

    def _wait_while_processing(self, submission_id: str, settle_timeout_s: float) -> None:
        deadline = time.monotonic() + settle_timeout_s
        pause = 0.1
        while self.get_submission(submission_id).get("status") == "PROCESSING":
            if time.monotonic() + pause > deadline:
                raise ProlificError("GET", f"/submissions/{_seg(submission_id)}/", None,
                                    f"submission still PROCESSING after {settle_timeout_s:g}s; try again later")
            time.sleep(pause)
            pause = min(pause * 2, 2.0)

    # --- bonuses ---

    def create_bonus_payments(self, study_id: str, bonuses: list[tuple[str, str]]) -> dict:
        """Set up (not pay) one bulk bonus: [(participant or submission id, "1.50"), ...].

        The CSV is built here, so an id or amount that would add a row or a column is refused before
        anything is sent. Not retried: a second set-up would be a second bulk to reconcile.
        """
        if not bonuses:
            raise ValueError("no bonuses to set up")
        rows = []
        for who, amount in bonuses:
            if not who or any(c in who for c in ",\r\n") or who != who.strip():
                raise ValueError(f"bonus recipient id {who!r} is empty or contains a comma, newline or spaces")
            if not _valid_amount(amount):
                raise ValueError(f"bonus amount {amount!r} for {who} is not a positive decimal like '1.50'")
            rows.append(f"{who},{amount}\n")
        return self._call("POST", "/submissions/bonus-payments/", {"study_id": study_id, "csv_bonuses": "".join(rows)})

    def pay_bonus_payments(self, bulk_id: str) -> None:
        """Pay a bulk bonus set up by `create_bonus_payments`. Sent exactly once, never retried.

        Prolific documents this endpoint as not idempotent: a repeat pays everyone again. A caller that
        gets `ProlificError` with status None does not know whether it paid, and must find out (the
        submissions' `bonus_payments`) before anything else; the ledger in `humaneval.crowd.bonuses` does.
        """
        self._call("POST", f"/bulk-bonus-payments/{_seg(bulk_id)}/pay/", None)

    # --- participant groups ---

    def create_participant_group(self, name: str, *, workspace_id: str | None = None, project_id: str | None = None,
                                 participant_ids: list[str] | None = None) -> dict:
        """Create a group (the reference asks for a `workspace_id` or an `organisation_id`; `project_id`
        is sent as given, and Prolific refuses a group with only that)."""
        body: dict[str, Any] = {"name": name}
        if workspace_id is not None:
            body["workspace_id"] = workspace_id
        if project_id is not None:
            body["project_id"] = project_id
        if participant_ids is not None:
            body["participant_ids"] = list(participant_ids)
        return self._call("POST", "/participant-groups/", body)

    def list_participant_groups(self, *, workspace_id: str | None = None, project_id: str | None = None) -> list[dict]:
        query = {k: v for k, v in (("workspace_id", workspace_id), ("project_id", project_id)) if v is not None}
        if not query:
            raise ValueError("list_participant_groups needs a workspace_id or a project_id")
        return self._list("/participant-groups/?" + urllib.parse.urlencode(query))

    def add_to_participant_group(self, group_id: str, participant_ids: list[str]) -> None:
        # Documented: members already in the group are ignored, so a retry cannot add anyone twice.
        self._call("POST", f"/participant-groups/{_seg(group_id)}/participants/",
                   {"participant_ids": list(participant_ids)}, retry=True)

    def remove_from_participant_group(self, group_id: str, participant_ids: list[str]) -> None:
        self._call("DELETE", f"/participant-groups/{_seg(group_id)}/participants/",
                   {"participant_ids": list(participant_ids)}, retry=True)

    def list_participant_group_members(self, group_id: str) -> list[str]:
        members = self._list(f"/participant-groups/{_seg(group_id)}/participants/")
        return [m["participant_id"] for m in members]

    # --- transport ---

    def _list(self, path: str) -> list[dict]:
        """Every page of a list endpoint: `results`, following `_links.next.href` while there is one."""
        results: list[dict] = []
        url: str | None = self.base_url + path
        seen: set[str] = set()
        while url is not None:
            if url in seen:
                raise ProlificError("GET", path, None, f"pagination loops back to {url}")
            seen.add(url)
            page = self._call("GET", url, retry=True)
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise ProlificError("GET", path, None, "the answer is not a list page (no 'results')")
            results.extend(page["results"])
            url = ((page.get("_links") or {}).get("next") or {}).get("href")
        return results

    def _call(self, method: str, path_or_url: str, body: dict | None = None, *, retry: bool = False) -> Any:
        """One request, retried with exponential backoff on no answer / 429 / 5xx only when `retry`."""
        url = path_or_url if "://" in path_or_url else self.base_url + path_or_url
        split = urllib.parse.urlsplit(url)
        if (split.scheme, split.netloc) != self._origin:
            # A `next` link elsewhere would carry the token to another host.
            raise ProlificError(method, split.path, None, f"refusing to follow a link off {self.base_url}")
        # Errors and log lines name the endpoint as the reference does ("/studies/{id}/"), without the base.
        path = split.path.removeprefix(self._base_path) + (f"?{split.query}" if split.query else "")
        data = json.dumps(body).encode("utf-8") if body is not None else None
        attempts = 1 + (self.retries if retry else 0)
        for attempt in range(attempts):
            logger.debug("Prolific %s %s", method, path)
            try:
                return self._send(method, url, path, data)
            except _Retryable as failure:
                if attempt + 1 == attempts:
                    raise failure.error from None
                wait = failure.retry_after if failure.retry_after is not None else self.backoff_s * 2 ** attempt
                wait = min(wait, _MAX_BACKOFF_S)
                logger.debug("Prolific %s %s: %s; retrying in %.1fs", method, path, failure.error.detail, wait)
                time.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _send(self, method: str, url: str, path: str, data: bytes | None) -> Any:
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Token {self._token}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            opener = _LOOPBACK_OPENER if self._origin[0] == "http" else _OPENER
            with opener.open(request, timeout=self.timeout_s) as response:
                status, raw = response.status, _read_bounded(response, method, path)
        except urllib.error.HTTPError as refused:
            with refused:
                raw = _read_bounded(refused, method, path)
            error = ProlificError(method, path, refused.code, self._scrub(_error_detail(raw, refused.reason)))
            logger.debug("Prolific %s %s -> %s", method, path, refused.code)
            if refused.code in _RETRY_STATUSES:
                raise _Retryable(error, _retry_after(refused.headers.get("Retry-After"))) from None
            raise error from None
        except (urllib.error.URLError, http.client.HTTPException, socket.timeout, ConnectionError, TimeoutError) as lost:
            reason = getattr(lost, "reason", lost)
            raise _Retryable(ProlificError(method, path, None, self._scrub(f"no answer: {reason}")), None) from None
        logger.debug("Prolific %s %s -> %s", method, path, status)
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise ProlificError(method, path, status, "the answer is not JSON") from None

    def _scrub(self, text: str) -> str:
        """Prolific's message or a socket error, with the token cut out should either ever echo it."""
        return text.replace(self._token, "<token>")


class _Retryable(Exception):
    """Internal: a failure that may be retried when the request allows it."""

    def __init__(self, error: ProlificError, retry_after: float | None) -> None:
        super().__init__(error.detail)
        self.error = error
        self.retry_after = retry_after


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are not followed: urllib would resend the Authorization header to wherever they point."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)
# Plain http goes only to a loopback host (a test server), and never through an http proxy from the
# environment, which would see the token in clear.
_LOOPBACK_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def _seg(identifier: str) -> str:
    """An id as one path segment: a '/' or '..' in an id cannot reach another endpoint."""
    if not identifier or identifier in (".", ".."):
        raise ValueError(f"invalid Prolific id {identifier!r}")
    return urllib.parse.quote(identifier, safe="")


def _valid_amount(amount: str) -> bool:
    if not isinstance(amount, str) or not _BONUS_AMOUNT.match(amount):
        return False
    try:
        return Decimal(amount) > 0
    except InvalidOperation:
        return False


def _read_bounded(response: Any, method: str, path: str) -> str:
    raw = response.read(MAX_RESPONSE_BYTES + 1)
    if len(raw) > MAX_RESPONSE_BYTES:
        raise ProlificError(method, path, None, f"answer larger than {MAX_RESPONSE_BYTES} bytes; refused")
    return raw.decode("utf-8", errors="replace")


def _error_detail(raw: str, reason: str) -> str:
    """Prolific's message out of its error body, or the HTTP reason when the body is not Prolific's."""
    try:
        error = json.loads(raw).get("error")
    except (ValueError, AttributeError):
        return reason or raw[:200]
    if not isinstance(error, dict):
        return reason or raw[:200]
    detail = error.get("detail", error.get("title", reason))
    if isinstance(detail, dict):
        return "; ".join(f"{field}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
                         for field, msgs in detail.items())
    return str(detail)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
