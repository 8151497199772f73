"""`python -m humaneval.crowd register-requester`: store MTurk keys or a Prolific token for a requester name.

Secrets come from the environment (`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, `PROLIFIC_API_TOKEN`),
so they never appear in shell history or `ps`, or from a hidden prompt when run in a terminal. There is
deliberately no option taking a secret on the command line.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from humaneval.crowd.data_dir import DATA_DIR_ENV, open_database, resolve_data_dir
from humaneval.crowd.mturk import MTURK_PROVIDERS, AwsKeys, credentials_file, register_requester
from humaneval.crowd.prolific import credentials as prolific_credentials
from humaneval.crowd.prolific.api import DEFAULT_BASE_URL
from humaneval.input_errors import InputError, exit_on_input_error

ACCESS_KEY_ENV = "AWS_ACCESS_KEY_ID"
SECRET_KEY_ENV = "AWS_SECRET_ACCESS_KEY"


def read_keys(interactive: bool | None = None) -> AwsKeys:
    """Keys from the environment, else from a prompt (terminal only), else a clear `InputError`."""
    key_id = os.environ.get(ACCESS_KEY_ENV, "").strip()
    secret = os.environ.get(SECRET_KEY_ENV, "").strip()
    if key_id and secret:
        return AwsKeys(key_id, secret)
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        missing = " and ".join(name for name, value in ((ACCESS_KEY_ENV, key_id), (SECRET_KEY_ENV, secret)) if not value)
        raise InputError(
            f"no AWS keys: set {missing} in the environment (or run in a terminal to be prompted); "
            "create the keys for an IAM user with the AmazonMechanicalTurkFullAccess policy",
            field="keys",
        )
    if not key_id:
        key_id = input("AWS access key id: ").strip()
    if not secret:
        secret = getpass.getpass("AWS secret access key (not shown): ").strip()
    if not key_id or not secret:
        raise InputError("both the AWS access key id and the secret access key are required", field="keys")
    return AwsKeys(key_id, secret)


def read_prolific_token(api_url: str, interactive: bool | None = None) -> prolific_credentials.ProlificToken:
    """The token from `$PROLIFIC_API_TOKEN`, else from a hidden prompt (terminal only)."""
    token = os.environ.get(prolific_credentials.TOKEN_ENV, "").strip()
    if not token:
        if interactive is None:
            interactive = sys.stdin.isatty()
        if not interactive:
            raise InputError(f"no Prolific token: set {prolific_credentials.TOKEN_ENV} in the environment (or run in a "
                             "terminal to be prompted); create one under Settings → API tokens on Prolific",
                             field="token")
        token = getpass.getpass("Prolific API token (not shown): ").strip()
    return prolific_credentials.ProlificToken(token, api_url)


def _register_prolific(name: str, api_url: str, data_dir: Path) -> int:
    token = read_prolific_token(api_url)
    registered = prolific_credentials.register_requester(open_database(data_dir), name, token)
    verb = "created" if registered.created else "already existed; token replaced"
    print(f"prolific requester '{registered.requester_name}' (id {registered.requester_id}) {verb} "
          f"in {data_dir / 'database.db'}")
    print(f"Prolific accepted the token (account {registered.account}); token {token.masked()} written to "
          f"{registered.credentials_file} with mode 0600")
    print(f"launch with: provider=prolific mephisto.provider.requester_name={name}")
    return 0


@exit_on_input_error
def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m humaneval.crowd register-requester",
        description=(
            "Register a requester. MTurk: write the AWS credentials profile (mode 0600) to "
            "$AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials; keys from "
            f"${ACCESS_KEY_ENV} and ${SECRET_KEY_ENV}. Prolific: check the API token with Prolific and "
            f"write it (mode 0600) to ${prolific_credentials.CREDENTIALS_FILE_ENV} or "
            f"~/.config/humaneval/prolific_credentials; token from ${prolific_credentials.TOKEN_ENV}. "
            "Without the variables you are prompted (hidden) in a terminal; secrets are never printed. "
            "Then the requester is created in the Mephisto database. Re-running replaces the secret."
        ),
    )
    parser.add_argument(
        "--provider", required=True, choices=(*MTURK_PROVIDERS, "prolific"),
        help="mturk_sandbox (free test marketplace), mturk (real workers, real money) or prolific "
        "(real participants, real money: Prolific has no sandbox)",
    )
    parser.add_argument(
        "--name", required=True,
        help="requester name; the AWS profile gets this name and launches use "
        "mephisto.provider.requester_name=NAME (the sandbox row is stored as NAME_sandbox)",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help=f"Mephisto data directory (default: ${DATA_DIR_ENV} or ./data/mephisto)",
    )
    parser.add_argument(
        "--api-url", default=DEFAULT_BASE_URL,
        help=f"prolific only: the API's address (default {DEFAULT_BASE_URL}); https, or http to this machine",
    )
    args = parser.parse_args(argv)
    data_dir = resolve_data_dir(args.data_dir)
    if args.provider == "prolific":
        return _register_prolific(args.name, args.api_url, data_dir)
    keys = read_keys()
    registered = register_requester(open_database(data_dir), args.provider, args.name, keys, credentials_file())
    verb = "created" if registered.created else "already existed; keys replaced"
    print(f"{registered.provider} requester '{registered.requester_name}' (id {registered.requester_id}) {verb} "
          f"in {data_dir / 'database.db'}")
    print(f"AWS profile [{registered.profile}] (key id {keys.masked_id()}) written to "
          f"{registered.credentials_file} with mode 0600")
    print(f"launch with: provider={registered.provider} mephisto.provider.requester_name={args.name}")
    return 0
