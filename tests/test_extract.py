"""`modelcheck extract`: a compiling skeleton for every test C file, one construct per file."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from modelcheck.extract import primitives
from modelcheck.extract.cfile import read_c
from modelcheck.extract.skeleton import Skeleton
from modelcheck.frontend import load_text
from modelcheck.semantics.compile import Compiler
from modelcheck.syntax.parser import parse
from spin_agreement import spin_verdicts

DATA = Path(__file__).parent / "data" / "extract"
C_FILES = sorted(DATA.glob("*.c"))
LOC = re.compile(r"  # (\S+):(\d+)$")


def skeleton(*names: str) -> Skeleton:
    return Skeleton([read_c(str(DATA / n)) for n in names])


def body(sk: Skeleton) -> str:
    """The skeleton without its `# FILE:LINE` notes, for matching."""
    return "\n".join(LOC.sub("", line) for line in sk.text().splitlines())


@pytest.mark.parametrize("path", C_FILES + [DATA / "twofile"], ids=lambda p: p.name)
def test_skeleton_compiles_and_every_line_names_its_c_line(path):
    files = sorted(path.glob("*.c")) if path.is_dir() else [path]
    sk = Skeleton([read_c(str(f)) for f in files])
    text = sk.text()
    load_text(text, f"{path.name}.probe")          # raises SpecError if it does not compile
    lengths = {str(f): len(f.read_text().splitlines()) for f in files}
    for line in text.splitlines():
        m = LOC.search(line)
        assert m, f"no '# FILE:LINE' at the end of: {line}"
        assert m.group(1) in lengths and 1 <= int(m.group(2)) <= lengths[m.group(1)], line


def test_module_init_exit_request_module_and_softdep():
    text = body(skeleton("module_init.c"))
    assert "module extract_module_init loadable {" in text
    assert "request_module(demo_helper);" in text and "module demo_helper loadable { }" in text
    assert "softdep pre: demo_core;" in text and "softdep post: demo_extra;" in text
    assert "if IS_ENABLED(DEMO_HELPER) {" in text and "config DEMO_HELPER : tristate;" in text
    assert "loaded_once = true;" in text and "return 0;" in text


def test_initcalls_make_a_builtin_object():
    text = body(skeleton("initcall.c"))
    assert "builtin extract_initcall {" in text
    assert "initcall subsys {" in text and "initcall late {" in text
    assert "if not core_ready {" in text


def test_platform_driver_probe_remove_probe_type_and_probe_defer():
    text = body(skeleton("platform_driver.c"))
    assert "driver demo_driver : prefer_async {" in text
    assert "return -EPROBE_DEFER;" in text and "remove {" in text
    assert "register_driver(demo_driver);  # module_platform_driver" in text
    assert "unregister_driver(demo_driver);" in text


def test_device_created_by_name_binds_to_the_driver_of_that_name():
    sk = skeleton("device_add.c")
    text = body(sk)
    assert 'device demo_dev : demo_dev_driver;  # matched by name "demo_dev"' in text
    assert "device_add(demo_dev);  # platform_device_add()" in text
    assert ("device_del", ("demo_pdev",)) in {s.key for s in sk.sites}


def test_declare_work_and_the_work_primitives():
    sk = skeleton("declare_work.c")
    text = body(sk)
    assert "work demo_work = demo_work_fn;" in text
    assert "queue_work(system_long_wq, demo_work);" in text
    assert "queue_work(system_wq, demo_work);  # schedule_work()" in text
    assert "flush_work(demo_work);" in text and "cancel_work_sync(demo_work);" in text


def test_work_initializer_in_a_struct_and_a_pointer_member_tracked():
    text = body(skeleton("work_initializer.c"))
    assert "work demo_defer = demo_defer_fn;  # static initializer: func set" in text
    assert "var demo_defer_pdev : bool = false;" in text
    assert "if demo_defer_pdev {" in text


def test_init_work_on_a_zeroed_static_work_and_work_pending():
    text = body(skeleton("init_work.c"))
    assert "work demo_defer;  # static, zeroed: func NULL until INIT_WORK" in text
    assert "init_work(demo_defer, demo_defer_fn);" in text
    assert "if work_pending(demo_defer) {" in text and "return -EBUSY;" in text
    assert "demo_defer_pdev = true;" in text


def test_workqueue_alloc_and_a_work_member_named_by_its_struct():
    text = body(skeleton("workqueue.c"))
    assert "workqueue demo_wq : ordered;" in text and "alloc_workqueue(demo_wq);" in text
    assert "work demo_dev_work;  # a work_struct member" in text
    assert "init_work(demo_dev_work, demo_fn);  # work.func assigned: INIT_WORK" in text
    assert "queue_work_ok_20 = queue_work(demo_wq, demo_dev_work);" in text
    assert "flush_workqueue(demo_wq);" in text and "destroy_workqueue(demo_wq);" in text


def test_locks_guard_trylock_and_rwsem():
    text = body(skeleton("locks.c"))
    assert "mutex demo_lock;" in text and "rwsem demo_rwsem;" in text
    assert "guard(mutex)(demo_lock);" in text
    assert "mutex_trylock_ok_30 = mutex_trylock(demo_lock);" in text
    for call in ("down_read", "up_read", "down_write", "up_write", "mutex_lock", "mutex_unlock"):
        assert f"{call}(demo_" in text


def test_completions_and_wait_queues():
    text = body(skeleton("completion.c"))
    assert "completion demo_done;" in text and "waitqueue demo_wq_head;" in text
    assert "wait_for_completion(demo_done);" in text and "complete(demo_done);" in text
    assert "wait_event(demo_wq_head, demo_flag);" in text and "wake_up(demo_wq_head);" in text


def test_devres_action_in_a_probe():
    text = body(skeleton("devres.c"))
    assert "devm_add_action(demo_release);  # devm_add_action_or_reset()" in text
    assert "return -ENXIO;" in text


def test_guard_device_and_device_lock():
    text = body(skeleton("device_guard.c"))
    assert "wait_for_device_probe();" in text
    assert "guard(device)(demo_pdev);" in text
    assert text.count("device_lock(demo_pdev);") == 1 and text.count("device_unlock(demo_pdev);") == 1   # demo_poke


def test_control_flow_choices_loops_goto_and_callbacks():
    sk = skeleton("control.c")
    text = body(sk)
    assert "if demo_a and (not demo_b) {" in text
    assert "# loop: later iterations are not explored" in text
    assert "# switch case" in text
    assert "goto err: the code from the label on, then return" in text
    assert "walk_iomem_res_desc() calls back demo_one()" in text
    assert "# pr_info() not modelled" in text
    assert "if choose() {  # if (mode > 2): not evaluable, both branches explored" in text
    assert "platform" not in text         # a choice is made afresh each time, not once per run


def test_two_file_driver_symbol_dependency():
    sk = Skeleton([read_c(str(DATA / "twofile" / n)) for n in ("core.c", "drv.c")])
    text = body(sk)
    assert "module twofile_drv loadable {" in text and "uses twofile_core;" in text
    assert "driver demo_drv_driver : force_sync {" in text
    assert "softdep pre: twofile_core;" in text
    assert "demo_core_flush();" in text


def test_every_table_primitive_is_a_spec_primitive():
    """The table maps C calls onto primitives the compiler has (statements or queries)."""
    compiler = Compiler(parse('spec "x"\n', "x.probe"))
    known = set(compiler.statements) | set(compiler.exprs.queries)
    assert primitives.spec_primitives() <= known, primitives.spec_primitives() - known


def test_cli_writes_the_skeleton_and_a_missing_file_is_exit_2(tmp_path):
    out = tmp_path / "sk.probe"
    run = subprocess.run([sys.executable, "-m", "modelcheck.cli", "extract", str(DATA / "declare_work.c"),
                          "-o", str(out), "--summary"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "modelled primitives" in run.stderr and out.read_text().startswith('spec "skeleton of')
    bad = subprocess.run([sys.executable, "-m", "modelcheck.cli", "extract", str(tmp_path / "no.c")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "E500" in bad.stderr and "Traceback" not in bad.stderr


def test_skeleton_checks_and_one_line_completes_it(tmp_path):
    """A skeleton is a spec like any other: it checks as extracted, and one userspace line (an rmmod
    racing the load) is all it takes for the zeroed work item's flush to be found."""
    out = tmp_path / "sk.probe"
    text = skeleton("init_work.c").text()
    out.write_text(text)
    run = subprocess.run([sys.executable, "-m", "modelcheck.cli", "check", str(out), "--no-trace"],
                         capture_output=True, text=True)
    assert run.returncode == 0 and "deadlock" in run.stdout, run.stdout + run.stderr
    out.write_text(text + "userspace admin { rmmod(extract_init_work); }\n")
    run = subprocess.run([sys.executable, "-m", "modelcheck.cli", "check", str(out), "--no-trace"],
                         capture_output=True, text=True)
    assert run.returncode == 1 and re.search(r"flush_uninitialized_work +VIOLATED", run.stdout), run.stdout


def test_rule_choose_explores_both_branches_each_time():
    """`if choose()` (modelcheck/semantics/statements.py, Statements.choose) stands for a C
    condition the language does not model, e.g. `region_intersects()` in
    drivers/dax/hmem/hmem.c: hmem_register_device. Both branches are taken, and each run of the
    statement chooses again: a spec relying on that is PROVED, one relying on the opposite
    (one fixed answer per run) is VIOLATED; explicit and foata agree."""
    from rule_helpers import PROVED, VIOLATED, expect, spec
    text = spec("choose", """
        range sr0 : soft_reserved @ 0x1000 .. 0x1fff;
        range sr1 : soft_reserved @ 0x2000 .. 0x2fff;
        builtin b {
          var n : int 0..2 = 0;
          var a : bool = false;
          var c : bool = false;
          initcall device {
            for r in soft_reserved { if choose() { n = n + 1; } }
            if choose() { a = true; } else { c = true; }
          }
        }
        final exactly_one_branch : a != c;
        final some_run_takes_then : not a;
        final some_run_takes_else : not c;
        final iterations_agree : n != 1;
        """)
    expect(text, exactly_one_branch=PROVED, some_run_takes_then=VIOLATED, some_run_takes_else=VIOLATED,
           iterations_agree=VIOLATED)


def test_choose_in_promela_spin_agrees(tmp_path):
    """choose() is two unguarded IR edges, so SPIN, given the Promela export, finds what the
    explicit engine finds."""
    from test_promela import _require_spin
    from modelcheck.checker import check_model
    from modelcheck.result import Verdict
    _require_spin()
    model = load_text('spec "choose"\nrange sr0 : soft_reserved @ 0x1000 .. 0x1fff;\n'
                      'range sr1 : soft_reserved @ 0x2000 .. 0x2fff;\n'
                      'builtin b { var n : int 0..2 = 0; var a : bool = false;\n'
                      '  initcall device { for r in soft_reserved { if choose() { n = n + 1; } }\n'
                      '                    if choose() { a = true; } } }\n'
                      'final not_one : n != 1;\nfinal a_stays : not a;\nfinal bounded : n <= 2;\n', "choose.probe")
    ours = {o.result.prop: ("violated" if o.result.verdict is Verdict.VIOLATED else "holds")
            for o in check_model(model, "explicit") if o.result.verdict in (Verdict.VIOLATED, Verdict.PROVED)}
    assert ours["not_one"] == "violated" and ours["bounded"] == "holds"
    assert spin_verdicts(model, ours, tmp_path) == ours


def test_choose_inside_an_expression_is_e502():
    from modelcheck.errors import SpecError
    with pytest.raises(SpecError) as info:
        load_text('spec "x"\nbuiltin b { var x : bool = false; initcall device { x = choose(); } }\n', "x.probe")
    assert info.value.code == "E502" and info.value.span.line == 2


def test_evaluation_census_counts_every_modelled_call_of_the_test_driver():
    """The figures of results/extract.md come from extract_eval: its census of the C is
    independent of the translator, and on the test files every modelled call is recognized."""
    from modelcheck.devtools.extract_eval import evaluate, markdown
    row = evaluate("init_work", [str(DATA / "init_work.c")], timeout=30)
    assert row["compiles"] and row["calls"] == row["recognized"] == 7, row
    assert row["verdicts"]["deadlock"] == "PROVED"
    row = evaluate("control", [str(DATA / "control.c")], timeout=30)
    assert row["calls"] == 0 and row["choices"] >= 6
    assert "| init_work | 7 | 7/7 (100%) |" in markdown([evaluate("init_work", [str(DATA / "init_work.c")], 30)])


def test_register_windows_request_map_release_and_devm_in_probe():
    text = body(skeleton("iomem.c"))
    assert "range DEMO_BASE_mmio : mmio @ 0x100010000 .. 0x100010fff;  # placeholder addresses" in text
    assert "range ioport_0x3f8 : ioport @" in text
    assert "request_mem_region_ok_35 = request_mem_region(DEMO_BASE_mmio, extract_iomem);" in text
    assert "ioremap(DEMO_BASE_mmio, extract_iomem);" in text and "iounmap(DEMO_BASE_mmio, extract_iomem);" in text
    assert "devm_request_mem_region_ok_18 = devm_request_mem_region(res_mmio);" in text
    assert "release_region(ioport_0x3f8, extract_iomem);" in text


def test_random_specs_with_choices_agree_across_engines():
    """specgen.generate(choices=True): random specs whose `if`s are partly `choose()`; the
    explicit and foata engines and both terminal-state enumerations agree on them."""
    import random
    from modelcheck.devtools.soak import OPTIONS, compare_spec
    from modelcheck.devtools.specgen import generate
    specs = [generate(random.Random(seed), 2, choices=True) for seed in range(60)]
    chosen = [spec for spec in specs if "choose()" in spec.text][:3]
    assert len(chosen) == 3
    for spec in chosen:
        result = compare_spec(spec.text, spec.flags, OPTIONS)
        assert result.ok, "\n".join(result.disagreements) + "\n\n" + spec.text
