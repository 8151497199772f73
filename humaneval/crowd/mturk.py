"""MTurk requesters: the Mephisto database row and the AWS credentials profile behind it.

Mephisto finds a requester by name in its database and then opens a boto3 session with the AWS
profile of the same name. Its own `mephisto register` writes that profile to `~/.aws/credentials`
(ignoring `$AWS_SHARED_CREDENTIALS_FILE`, which boto3 itself honours), leaves the file readable by
every user, prints a confirmation that includes nothing useful, and asks for keys with `input()`.
We register instead: the profile goes to the file boto3 will actually read, created with mode 0600,
written atomically, and the secret is never printed or logged.

Naming, as Mephisto 1.1.1 expects it:

* `mturk`: database row `NAME`, AWS profile `NAME`.
* `mturk_sandbox`: database row `NAME_sandbox`, AWS profile `NAME` (Mephisto's sandbox requester
  strips the suffix before opening the session), so one profile serves both the sandbox and the live
  marketplace of the same AWS account.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from humaneval.crowd.private_ini import write_private_section
from humaneval.crowd.requester_rows import check_requester_name, find_or_create_requester
from humaneval.input_errors import InputError
from mephisto.abstractions.database import MephistoDB
from mephisto.data_model.requester import Requester

logger = logging.getLogger(__name__)

MTURK_PROVIDERS = ("mturk_sandbox", "mturk")
SANDBOX_SUFFIX = "_sandbox"
CREDENTIALS_FILE_ENV = "AWS_SHARED_CREDENTIALS_FILE"


@dataclass(frozen=True)
class AwsKeys:
    """An IAM access key pair. The secret is excluded from `repr` so it cannot leak into logs."""

    access_key_id: str
    secret_access_key: str = field(repr=False)

    def masked_id(self) -> str:
        """Enough of the key id to tell keys apart in output, not enough to use it."""
        return f"…{self.access_key_id[-4:]}" if len(self.access_key_id) > 4 else "…"


@dataclass(frozen=True)
class RegisteredRequester:
    """What `register_requester` did, for the CLI to report."""

    provider: str
    requester_id: str
    requester_name: str  # the name in Mephisto's database (with `_sandbox` for the sandbox)
    profile: str  # the AWS profile Mephisto will open
    credentials_file: Path
    created: bool  # False when the database row already existed (the keys were still rewritten)


def credentials_file() -> Path:
    """The AWS shared credentials file boto3 reads: `$AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`."""
    configured = os.environ.get(CREDENTIALS_FILE_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".aws" / "credentials"


def requester_db_name(provider: str, name: str) -> str:
    """The requester name Mephisto stores (and looks up at launch) for `name` on `provider`."""
    _check_provider(provider)
    if provider == "mturk_sandbox" and not name.endswith(SANDBOX_SUFFIX):
        return name + SANDBOX_SUFFIX
    return name


def profile_name(provider: str, name: str) -> str:
    """The AWS profile Mephisto opens for requester `name` on `provider`."""
    _check_provider(provider)
    if provider == "mturk_sandbox" and name.endswith(SANDBOX_SUFFIX):
        return name[: -len(SANDBOX_SUFFIX)]
    return name


def validate_requester_name(provider: str, name: str) -> None:
    """Raise `InputError` for names Mephisto or the credentials file would mangle."""
    _check_provider(provider)
    check_requester_name(name)
    if provider == "mturk" and name.endswith(SANDBOX_SUFFIX):
        raise InputError(
            f"'{name}' ends in '{SANDBOX_SUFFIX}', which Mephisto reserves for sandbox requesters; "
            "choose another name for the live marketplace",
            field="name",
        )
    if provider == "mturk_sandbox" and name == SANDBOX_SUFFIX:
        raise InputError("the requester name cannot be just '_sandbox'", field="name")


def write_credentials_profile(profile: str, keys: AwsKeys, path: Path | None = None) -> Path:
    """Add or replace `[profile]` in the credentials file, keeping every other profile as it was.

    The file (and a new parent directory) is created private (0600 / 0700) and replaced atomically,
    so a crash never leaves a half-written file and the keys are never world-readable, not even for
    an instant. Comments in an existing file are not kept (configparser drops them).
    """
    if not keys.access_key_id.strip() or not keys.secret_access_key.strip():
        raise InputError("both the AWS access key id and the secret access key are required", field="keys")
    if any(c in value for value in (keys.access_key_id, keys.secret_access_key) for c in "\r\n"):
        raise InputError("AWS keys must be single-line values", field="keys")
    path = write_private_section(
        path or credentials_file(), profile,
        {"aws_access_key_id": keys.access_key_id.strip(), "aws_secret_access_key": keys.secret_access_key.strip()},
    )
    logger.info("AWS profile [%s] written to %s (key id %s)", profile, path, keys.masked_id())
    return path


def register_requester(
    db: MephistoDB, provider: str, name: str, keys: AwsKeys, credentials_path: Path | None = None
) -> RegisteredRequester:
    """Write the AWS profile, then find or create the requester row Mephisto launches with.

    Idempotent: registering the same name again rewrites the keys (e.g. after rotating them) and
    reuses the existing database row.
    """
    validate_requester_name(provider, name)
    db_name = requester_db_name(provider, name)
    profile = profile_name(provider, name)
    path = write_credentials_profile(profile, keys, credentials_path)
    requester, created = find_or_create_requester(db, provider, db_name)
    logger.info("%s requester '%s' (id %s) %s", provider, db_name, requester.db_id, "created" if created else "found")
    return RegisteredRequester(
        provider=provider,
        requester_id=str(requester.db_id),
        requester_name=db_name,
        profile=profile,
        credentials_file=path,
        created=created,
    )


def find_requester(db: MephistoDB, provider: str, name: str) -> Requester | None:
    """The registered requester for `name` on `provider` (plain or `_sandbox` name), or None."""
    found = db.find_requesters(requester_name=requester_db_name(provider, name), provider_type=provider)
    return found[0] if found else None


def requester_balance(db: MephistoDB, provider: str, name: str) -> float:
    """The requester's available MTurk balance in USD (the sandbox always reports 10000)."""
    requester = find_requester(db, provider, name)
    if requester is None:
        raise InputError(
            f"no {provider} requester named '{name}'; register one with "
            f"`python -m humaneval.crowd register-requester --provider {provider} --name {name}`",
            field="name",
        )
    return float(requester.get_available_budget())


def _check_provider(provider: str) -> None:
    if provider not in MTURK_PROVIDERS:
        raise InputError(f"unknown MTurk provider '{provider}'; choose one of {', '.join(MTURK_PROVIDERS)}", field="provider")
