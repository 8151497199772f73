"""Seeded simulated studies with a known truth (ACUTE, safety, BAD) for tests, the benchmark and trying the reports."""
