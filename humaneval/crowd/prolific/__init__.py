"""Prolific: a Mephisto crowd provider of our own (Mephisto 1.1.1 has none), its API client and credentials."""
