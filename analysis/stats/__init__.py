"""Statistics every study uses: exact tests, intervals, corrections, agreement, Bradley–Terry, Dawid–Skene, power, record checks."""
