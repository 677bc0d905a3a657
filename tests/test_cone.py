"""Cone of influence on configurations: open options that no step or property reads are
eliminated before any engine runs, and the remaining options keep exactly their allowed
combinations."""
from __future__ import annotations

import random
import time

from modelcheck.checker import check_model
from modelcheck.cone import drop_unread_configs
from modelcheck.frontend import load_text
from modelcheck.interp import Interpreter
from modelcheck.result import EngineOptions, Verdict

from rule_helpers import PROVED, VIOLATED, expect, spec


def chain(n: int, prop: str) -> str:
    lines = [f"config OPT{i} : tristate;" for i in range(n)]
    lines += [f"require OPT{i + 1} <= OPT{i};" for i in range(n - 1)]
    return spec("a chain of Kconfig dependencies", "\n".join(lines) + f"\n{prop}\n")


def test_unread_options_are_not_variables_of_the_model():
    model = load_text(chain(6, "invariant ends : OPT5 <= OPT0;"), "chain.probe")
    names = {v.name for v in model.variables if v.role == "config"}
    assert names == {"OPT0", "OPT5"}


def test_projection_keeps_what_the_chain_implies_both_ways():
    expect(chain(5, "invariant ends : OPT4 <= OPT0;"), ends=PROVED)
    expect(chain(5, "invariant reversed : OPT0 <= OPT4;"), reversed=VIOLATED)


def test_options_read_by_code_stay():
    text = spec("an option read by a module", """
        config A : tristate;
        config B : tristate;
        require B <= A;
        module m if B { var done : bool = false; init { done = true; } }
        final gate : loaded(m) -> A != n;
        expect holds gate;
        """)
    model = load_text(text, "gate.probe")
    assert {"A", "B"} <= {v.name for v in model.variables}
    expect(text, gate=PROVED)


def _initial_projection(model, names):
    interp = Interpreter(model)
    index = [[v.name for v in model.variables].index(n) for n in names]
    return {tuple(s.values[i] for i in index) for s in interp.initial_states()}


def test_random_constraints_project_exactly():
    """Eliminating unread options never adds or removes a combination of the others."""
    for seed in range(30):
        rnd = random.Random(seed)
        n = rnd.randint(3, 6)
        lines = [f"config C{i} : tristate;" for i in range(n)]
        ops = ["<=", ">=", "==", "!="]
        for _ in range(rnd.randint(1, 5)):
            a, b = rnd.sample(range(n), 2)
            lines.append(f"require C{a} {rnd.choice(ops)} C{b} or C{rnd.randrange(n)} == {rnd.choice('nmy')};")
        kept = sorted(rnd.sample(range(n), 2))
        lines.append(f"invariant p : C{kept[0]} <= C{kept[1]} or C{kept[0]} == y;")
        text = spec("random constraints", "\n".join(lines) + "\n")
        full = load_text(text, "r.probe")
        from modelcheck.frontend import compile_spec, parse
        from modelcheck.reduce import fuse
        unreduced = fuse(compile_spec(parse(text, "r.probe")))
        names = [f"C{k}" for k in kept]
        assert _initial_projection(full, names) == _initial_projection(unreduced, names), seed
        assert drop_unread_configs(unreduced).variables == full.variables


def test_seventeen_chained_options_decide_in_seconds():
    model = load_text(chain(17, "invariant ends : OPT16 <= OPT0;"), "chain17.probe")
    start = time.monotonic()
    results = {o.result.prop: o.result.verdict for o in check_model(model, "explicit", EngineOptions(timeout=60))}
    assert results["ends"] is Verdict.PROVED and time.monotonic() - start < 10


def _read_all(n: int, invariant: str) -> str:
    lines = [f"config OPT{i} : tristate;" for i in range(n)]
    return spec("every option read", "\n".join(lines) + f"\nrequire OPT1 <= OPT0;\n{invariant}\n")


def test_many_read_configurations_go_to_the_symbolic_engine_both_ways():
    """3^10 initial configurations: explicit hands the model to foata, and the verdicts stay exact."""
    reads_all = " and ".join(f"OPT{i} != n" for i in range(2, 10))
    holds = load_text(_read_all(10, f"invariant ordered : OPT1 <= OPT0 or ({reads_all});"), "many.probe")
    got = {o.result.prop: o.result for o in check_model(holds, "explicit", EngineOptions(timeout=120))}
    assert got["ordered"].verdict is Verdict.PROVED and got["ordered"].engine == "foata"
    assert "initial configurations: decided by the foata engine" in got["ordered"].argument
    broken = load_text(_read_all(10, "invariant never : " + " or ".join(f"OPT{i} != m" for i in range(10)) + ";"),
                       "many.probe")
    outcomes = check_model(broken, "explicit", EngineOptions(timeout=120))
    never = next(o for o in outcomes if o.prop.name == "never")
    assert never.result.verdict is Verdict.VIOLATED and never.replay is not None


def test_bench_section_is_replaced_and_kept(tmp_path):
    from modelcheck.devtools import bench_configs
    md = tmp_path / "bench.md"
    md.write_text("# Benchmarks\n\n## Seeds\n\nrow\n\n![plot](bench.png)\n")
    first = bench_configs.merge_into(md.read_text(), [bench_configs.HEADING, "", "old", ""])
    second = bench_configs.merge_into(first, [bench_configs.HEADING, "", "new", ""])
    assert "old" not in second and second.count(bench_configs.HEADING) == 1
    assert second.index("new") < second.index("![plot]") and "## Seeds" in second
    md.write_text(second)
    assert bench_configs.kept_section(str(md))[2] == "new"
