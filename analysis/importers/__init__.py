"""Importers: results of other tools (ParlAI's crowdsourcing tasks, any pairwise CSV) → our export records."""
