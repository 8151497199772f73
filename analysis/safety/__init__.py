"""Human safety evaluation: labels -> unsafe rates, Dawid–Skene, agreement, worker gold accuracy, report (`python -m analysis safety`)."""
