"""analysis.stats.sufficiency: the named minimums and their messages."""

from scipy.stats import binomtest

from analysis.stats import sufficiency as s


def test_check_passes_at_the_minimum_and_fails_below():
    assert s.check(s.MIN_WORKERS_FOR_WORKER_BOOTSTRAP, 10) is None
    found = s.check(s.MIN_WORKERS_FOR_WORKER_BOOTSTRAP, 3)
    assert found is not None
    assert found.message == "not enough data: needs at least 10 workers (have 3)"
    assert found.as_json() == {"not_enough_data": "needs at least 10 workers (have 3)"}
    assert str(found) == found.message


def test_first_failure_reports_the_first_failing_rule():
    found = s.first_failure((s.MIN_DISTINCT_WORKER_IDS, 5), (s.MIN_WORKERS_FOR_WORKER_BOOTSTRAP, 5))
    assert found.rule is s.MIN_WORKERS_FOR_WORKER_BOOTSTRAP
    assert s.first_failure((s.MIN_DISTINCT_WORKER_IDS, 5)) is None


def test_every_rule_is_documented_with_its_threshold():
    doc = open("docs/analysis.md", encoding="utf-8").read()
    section = doc.split("## Not enough data", 1)[1]
    for rule in s.RULES:
        assert rule.name in section, rule.name
        assert rule.reason
        row = next(line for line in section.splitlines() if rule.name in line)
        assert f"| {rule.minimum} |" in row, row


def test_side_test_minimum_is_the_smallest_n_that_can_reject():
    n = s.MIN_JUDGEMENTS_FOR_SIDE_TEST.minimum
    assert binomtest(n, n, 0.5).pvalue < 0.05
    assert binomtest(n - 1, n - 1, 0.5).pvalue >= 0.05
