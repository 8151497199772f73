"""`python -m humaneval.crowd register-requester`: store MTurk credentials for a requester name.

Keys come from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (so they never appear in shell history
or `ps`), or from a hidden prompt when run in a terminal. There is deliberately no option taking the
secret on the command line.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from humaneval.crowd.data_dir import DATA_DIR_ENV, open_database, resolve_data_dir
from humaneval.crowd.mturk import MTURK_PROVIDERS, AwsKeys, credentials_file, register_requester
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


@exit_on_input_error
def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m humaneval.crowd register-requester",
        description=(
            "Register an MTurk requester: write the AWS credentials profile (mode 0600) to "
            "$AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials and create the requester in the Mephisto "
            f"database. Keys are read from ${ACCESS_KEY_ENV} and ${SECRET_KEY_ENV}, or prompted for "
            "(hidden) in a terminal; they are never printed. Re-running with new keys replaces them."
        ),
    )
    parser.add_argument(
        "--provider", required=True, choices=MTURK_PROVIDERS,
        help="mturk_sandbox (free test marketplace) or mturk (real workers, real money)",
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
    args = parser.parse_args(argv)
    keys = read_keys()
    data_dir = resolve_data_dir(args.data_dir)
    registered = register_requester(open_database(data_dir), args.provider, args.name, keys, credentials_file())
    verb = "created" if registered.created else "already existed; keys replaced"
    print(f"{registered.provider} requester '{registered.requester_name}' (id {registered.requester_id}) {verb} "
          f"in {data_dir / 'database.db'}")
    print(f"AWS profile [{registered.profile}] (key id {keys.masked_id()}) written to "
          f"{registered.credentials_file} with mode 0600")
    print(f"launch with: provider={registered.provider} mephisto.provider.requester_name={args.name}")
    return 0
