"""Prolific requesters: an API token per requester name, kept like the MTurk keys.

The token goes to `$HUMANEVAL_PROLIFIC_CREDENTIALS`, else `~/.config/humaneval/prolific_credentials`: an INI
file with one section per requester name (`token`, `api_url`), written private (0600) and atomically
by `private_ini`. The Mephisto database holds only the requester row (name, provider `prolific`), so a
copied database carries no secret. The token is never printed, logged or taken on the command line.

`api_url` is normally Prolific's; another one is accepted only over https, or over http to this machine
(tests run a fake Prolific on 127.0.0.1), so a token never travels in clear.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from humaneval.crowd.prolific.api import DEFAULT_BASE_URL, ProlificClient, ProlificError
from humaneval.crowd.prolific.provider_type import PROVIDER_TYPE
from humaneval.crowd.private_ini import read_private_section, write_private_section
from humaneval.crowd.requester_rows import check_requester_name, find_or_create_requester
from humaneval.input_errors import InputError
from mephisto.abstractions.database import MephistoDB

logger = logging.getLogger(__name__)

CREDENTIALS_FILE_ENV = "HUMANEVAL_PROLIFIC_CREDENTIALS"
TOKEN_ENV = "PROLIFIC_API_TOKEN"


@dataclass(frozen=True)
class ProlificToken:
    """A requester's API token; excluded from `repr` so it cannot leak into logs."""

    token: str = field(repr=False)
    api_url: str = DEFAULT_BASE_URL

    def masked(self) -> str:
        """Enough of the token to tell tokens apart in output, not enough to use it."""
        return f"…{self.token[-4:]}" if len(self.token) > 8 else "…"


@dataclass(frozen=True)
class RegisteredProlificRequester:
    """What `register_requester` did, for the CLI to report."""

    requester_id: str
    requester_name: str
    credentials_file: Path
    created: bool
    account: str  # who Prolific says the token belongs to (name or id), proof the token works


def credentials_file() -> Path:
    configured = os.environ.get(CREDENTIALS_FILE_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".config" / "humaneval" / "prolific_credentials"


def read_token(requester_name: str, path: Path | None = None) -> ProlificToken:
    """The stored token of `requester_name`, or an `InputError` saying how to register one."""
    path = path or credentials_file()
    values = read_private_section(path, requester_name)
    if not values or not values.get("token"):
        raise InputError(
            f"no Prolific token stored for requester '{requester_name}' in {path}; register one with "
            f"`python -m humaneval.crowd register-requester --provider prolific --name {requester_name}`",
            field="mephisto.provider.requester_name",
        )
    return ProlificToken(values["token"], values.get("api_url") or DEFAULT_BASE_URL)


def client_for_requester(db: MephistoDB | None, requester_name: str) -> ProlificClient:
    """A client speaking for `requester_name` (`db` is accepted for symmetry with the MTurk requester,
    whose client Mephisto builds from its database row; Prolific's lives only in the credentials file)."""
    stored = read_token(requester_name)
    return ProlificClient(stored.token, stored.api_url)


def register_requester(db: MephistoDB, name: str, token: ProlificToken, path: Path | None = None) -> RegisteredProlificRequester:
    """Check the token with Prolific (`GET /users/me/`), store it, then find or create the requester row.

    Idempotent: registering again replaces the token (how you rotate it) and reuses the row. A token
    Prolific refuses is not stored."""
    check_requester_name(name)
    if not token.token.strip():
        raise InputError("the Prolific API token is empty", field="token")
    try:
        client = ProlificClient(token.token.strip(), token.api_url)
        me = client.me()
    except ValueError as err:  # the client refuses an api_url that would send the token in clear
        raise InputError(str(err), field="api-url") from None
    except ProlificError as err:
        raise InputError(f"Prolific refused the token: {err}", field="token") from None
    account = str(me.get("name") or me.get("email") or me.get("id") or "?")
    path = write_private_section(path or credentials_file(), name, {"token": token.token.strip(), "api_url": token.api_url})
    requester, created = find_or_create_requester(db, PROVIDER_TYPE, name)
    logger.info("prolific requester '%s' (id %s) %s; token %s stored in %s", name, requester.db_id,
                "created" if created else "found", token.masked(), path)
    return RegisteredProlificRequester(str(requester.db_id), name, path, created, account)
