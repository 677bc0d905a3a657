"""The seed-spec table and its summary are computed from the rows (no timings are asserted)."""
from modelcheck.devtools.bench_seeds import HEADING, TIMEOUT, SeedRow, merge_into, render_section, summary

ROWS = [
    SeedRow("fast.probe", 3, 0.05, 148, 1.0, 0.2, 870, proved=2, certified=2, certify_seconds=0.5),
    SeedRow("behind-pan.probe", 5, 0.6, 1564, 1.2, 0.3, 15455, proved=3, certified=1, certify_seconds=2.0,
            not_certified=["deadlock (the time limit ran out)", "p (too weak)"]),
    SeedRow("slow.probe", 4, 12.0, 9000, 6.0, 4.0, 50000, ["SPIN: p (inconclusive)"]),
    SeedRow("ours-timeout.probe", 2, TIMEOUT, -1, 3.0, 1.0, 700, ["ours: q (timeout)"]),
    SeedRow("seed002-dax-cxl-mode.probe", 6, 5.0, 100, TIMEOUT, TIMEOUT, -1,
            ["SPIN: every property (timeout)"], plain_seconds=2.0),
]


def test_table_has_a_row_per_spec_with_ratios_and_timeouts():
    lines = render_section(ROWS, "then", "1.0", 300)
    assert lines[0] == HEADING
    table = [line for line in lines if line.startswith("| ") and ".probe" in line]
    assert [line.split(" | ")[0] for line in table] == [f"| {r.spec}" for r in ROWS]
    assert "| 0.05 | 0.25 | yes | 2 of 2 in 0.500 s |" in table[0]
    assert "| 1 of 3 in 2.000 s |" in table[1] and "| none proved |" in table[2]
    assert "| 0.50 | 2.00 (slower) | yes |" in table[1]
    assert "| timeout | (stopped early) |" in table[3] and "n/a | n/a | no | none proved | ours: q (timeout) |" in table[3]
    assert "SPIN: p (inconclusive)" in table[2]


def test_summary_counts_and_names_where_we_are_behind():
    text = "\n".join(summary(ROWS))
    assert "ours decides 2 of 5 seed specs in under 1 s" in text
    # SPIN timed out on seed002: we finished, so we count as ahead there.
    assert "faster than SPIN's pipeline on 3 of 5 and than pan alone on 2 of 5" in text
    assert "Behind SPIN's pipeline on: slow (2x), ours-timeout (ours timed out)." in text
    assert "behind-pan (2x)" in text and "slow (3x)" in text
    assert "Behind pan alone on: behind-pan (2x), slow (3x), ours-timeout (ours timed out)." in text
    assert "Over 1 s: slow (12.000 s), ours-timeout (timeout), seed002-dax-cxl-mode (5.000 s)." in text
    assert "5.000 s by default, 2.000 s with `check --no-reduction` in the same run (SPIN timed out)" in text
    assert "Behind SPIN's pipeline on: slow (2x)" in text
    assert "Z3 certificates: 3 of 5 PROVED safety verdicts" in text
    assert "- not certified in behind-pan: deadlock (the time limit ran out); p (too weak)" in text


def test_merge_replaces_only_the_seed_section():
    old = "\n".join(["# Benchmarks", "", "## family", "| a |", "", "## Summary", "x", "",
                     HEADING, "", "old row", "", "![plot](bench.png)", ""])
    merged = merge_into(old, render_section(ROWS[:1], "now", "1.0", 300))
    assert "old row" not in merged and merged.count(HEADING) == 1
    assert merged.index("## Summary") < merged.index(HEADING) < merged.index("![plot]")
    assert "| a |" in merged and "fast.probe" in merged
    fresh = merge_into("# Benchmarks\n\n## family\n", render_section(ROWS[:1], "now", "1.0", 300))
    assert fresh.startswith("# Benchmarks") and HEADING in fresh
