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
    assert "on seed002-dax-cxl-mode.probe, 5.000 s by default, 2.000 s with `check --no-reduction` in the same run (SPIN timed out)" in text
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


def test_each_goal_says_met_or_which_spec_misses_it_and_why():
    from modelcheck.devtools import bench
    from modelcheck.devtools.bench_seeds import WHOLE_GRAPH
    seeds = [ROWS[0], SeedRow("big.probe", 7, 30.0, 600000, 27.0, 20.0, 971317, proved=6,
                              certify_seconds=60.0, not_certified=["p (time)"], search=WHOLE_GRAPH)]
    fam = [bench.Row("modules", str(size), False, "holds", 0.01 * size, 100 * size, 1.0,
                     "holds" if size <= 2 else "not run", 1.0 if size <= 2 else -1.0, 0.5, 0.1, 1000 * 8 ** size, 60.0)
           for size in (1, 2, 4, 8)]
    jobs = ["## Parallel runs (--jobs)", "", "| round | --jobs | wall time | speed-up over --jobs 1 | free cores | load |",
            "|---|---|---|---|---|---|", "| 1 | 1 | 126.7 s | 1.00x | 2.1 | 1.8 |", "| 1 | 2 | 84.6 s | 1.50x | 2.1 | 1.1 |"]
    text = "\n".join(bench.goals(fam, seeds, jobs))
    assert text.startswith(bench.GOALS_HEADING)
    assert "under 1 s: not met, 1 of 2. Missed by: big (30.000 s: 600000 states, the whole state graph" in text
    assert "50 µs per state" in text
    assert "Ahead of pan alone on every seed spec: not met, 1 of 2. Behind on: big (1.5x)." in text
    assert "under 10 s: not met (126.7 s with --jobs 1" in text and "not met (1.50x at best" in text
    assert "within 60 s: not met, 2 of 8" in text
    # states ~ size^1 throughout: polynomial
    assert "Growth polynomial in family size" in text and "met: modules: k 1.00 from size 1 to 4, 1.00 from 4 to 8" in text
    assert "not measured (python -m modelcheck.devtools.bench_jobs specs/)" in "\n".join(bench.goals(fam, seeds, []))


def test_family_rows_beyond_spin_say_not_run_and_leave_the_ratios_out():
    from modelcheck.devtools import bench
    rows = [bench.Row("modules", str(size), bug, "holds" if not bug else "violated", 0.1, 100 * size, 1.0,
                      ("violated" if bug else "holds") if size <= 2 else "not run",
                      2.0 if size <= 2 else -1.0, 0.8, 0.3 if size <= 2 else -1.0, 1000 if size <= 2 else -1, 60.0)
            for size in (1, 2, 3) for bug in (True, False)]
    text = bench.render(rows, "now", "0.0")
    assert "| 3 | fix | holds | 0.100 | 300 | not run | not run | not run | not run | not run | not run | n/a | n/a |" in text
    assert "on all 4 models both ran" in text and "; on 2 more ours alone ran." in text
    assert "up to size 2" in text


def test_a_family_size_ours_left_undecided_is_named_and_leaves_the_growth_goal_unmet():
    from modelcheck.devtools import bench
    rows = [bench.Row("modules", str(size), False, "holds" if size < 4 else "BOUNDED", 0.1 * size, 100 ** size,
                      1.0, "holds", 1.0, 0.5, 0.2, 1000, 60.0) for size in (1, 2, 3, 4)]
    text = bench.render(rows, "now", "0.0")
    assert "| 4 | fix | BOUNDED |" in text and "| n/a | n/a |" in text
    assert "undecided by ours: modules 4 fix: BOUNDED" in text
    goal = "\n".join(bench.goals(rows, [], []))
    assert "Growth polynomial in family size" in goal and "not met: modules: undecided from size 4 on" in goal
