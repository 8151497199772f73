"""Statistics over exported judgement/label records (never imports Mephisto)."""
