"""Names every Prolific module shares: the provider type Mephisto stores with each row, and the default
requester-wide block group."""

import re

PROVIDER_TYPE = "prolific"
DEFAULT_BLOCK_GROUP = "humaneval-blocked"

# What a Prolific id from a page's URL (participant, study, session) may look like: Prolific's are 24 hex
# characters; anything id-like is accepted, nothing that could smuggle markup, paths or SQL.
PROLIFIC_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
