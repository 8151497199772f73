"""ACUTE-Eval: pairwise judgements -> significance, Bradley–Terry ranking, worker quality, report (`python -m analysis acute`, `plan`)."""
