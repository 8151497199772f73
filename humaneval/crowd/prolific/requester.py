"""A Prolific requester: a name in Mephisto's database whose API token lives in the credentials file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from humaneval.crowd.prolific.credentials import client_for_requester, read_token
from humaneval.crowd.prolific.provider_type import PROVIDER_TYPE
from humaneval.input_errors import InputError
from mephisto.abstractions.database import MephistoDB
from mephisto.data_model.requester import Requester, RequesterArgs


@dataclass
class ProlificRequesterArgs(RequesterArgs):
    name: str = field(default="???", metadata={"help": "the requester name given to `register-requester --provider prolific`"})


class ProlificRequester(Requester):
    """Registration happens through `python -m humaneval.crowd register-requester --provider prolific`,
    which checks the token with Prolific before storing it; Mephisto's own `register` is refused so
    that no token ever goes through a command line."""

    ArgsClass = ProlificRequesterArgs

    def register(self, args: Any = None) -> None:
        raise InputError("register Prolific requesters with `python -m humaneval.crowd register-requester "
                         "--provider prolific --name NAME` (the token is read from $PROLIFIC_API_TOKEN or a prompt)")

    def is_registered(self) -> bool:
        try:
            read_token(self.requester_name)
        except InputError:
            return False
        return True

    def get_available_budget(self) -> float:
        """Prolific's `GET /users/me/` balance in the account currency's major unit (it reports minor units)."""
        me = client_for_requester(self.db, self.requester_name).me()
        return float(me.get("available_balance", me.get("balance", 0)) or 0) / 100

    @classmethod
    def is_sandbox(cls) -> bool:
        return False  # Prolific has no sandbox: every study is live and paid

    @staticmethod
    def new(db: MephistoDB, requester_name: str) -> Requester:
        return ProlificRequester._register_requester(db, requester_name, PROVIDER_TYPE)
