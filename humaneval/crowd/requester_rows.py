"""Requesters in Mephisto's database: the name rule and find-or-create, for every paid provider.

A requester name becomes a credentials-file section (an AWS profile, a Prolific token's section) and a
row Mephisto launches with, so it is kept plain; and one name belongs to one provider, or a launch
could pick up the other provider's row.
"""

from __future__ import annotations

import re

from humaneval.input_errors import InputError
from mephisto.abstractions.database import MephistoDB
from mephisto.data_model.requester import Requester
from mephisto.operations.registry import get_crowd_provider_from_type

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_requester_name(name: str) -> None:
    """Raise `InputError` for names a credentials file or Mephisto would mangle."""
    if not _NAME_PATTERN.match(name):
        raise InputError(
            f"requester name '{name}' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
            field="name",
        )


def find_or_create_requester(db: MephistoDB, provider: str, db_name: str) -> tuple[Requester, bool]:
    """The `provider` requester row named `db_name` and whether it was just created; a name another
    provider's requester has is refused."""
    found = db.find_requesters(requester_name=db_name, provider_type=provider)
    if found:
        return found[0], False
    clashing = db.find_requesters(requester_name=db_name)
    if clashing:
        raise InputError(f"requester name '{db_name}' is already used by a {clashing[0].provider_type} requester",
                         field="name")
    return get_crowd_provider_from_type(provider).RequesterClass.new(db, db_name), True
