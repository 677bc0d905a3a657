"""The timeline a reviewer pastes into a reply: lanes per thread, spec lines, fits the width."""
from pathlib import Path

from modelcheck.checker import check_model
from modelcheck.frontend import load_file
from modelcheck.report.timeline import timeline

from spec_results import checked

ROOT = Path(__file__).resolve().parent.parent

TOUR_TIMELINE = """\
flush_uninitialized_work: VIOLATED in 8 steps -- flush_work/cancel_work_sync never runs on a work
    item whose func is NULL (§4.4)
config: (none)
platform: (none)
[N] = line N of tour.probe

     init (boot)             modprobe dax_cxl
     |                       |
   1 boot done: userspace starts
   2                         udev: modprobe dax_cxl ; modprobe dax_cxl: not loaded yet, its probe
                             list first
   3                         modprobe dax_cxl: dependency dax_hmem: dax_hmem_init starts [4]
   4                         register_driver(hmem_platform) [8]
   5                         driver_attach: hmem0 is not added, nothing to probe
   6                         dax_hmem_init returned 0: dax_hmem is live
   7                         modprobe dax_cxl: dax_cxl_init starts [11]
   8                         flush_work(defer_work): func is NULL, WARN and return ; dax_cxl_init
                             returned 0: dax_cxl is live [13]
     !! flush_work(defer_work) with func NULL: WARN in __flush_work
     race: udev: modprobe dax_cxl's "flush_work(defer_work): func is NULL, WARN and return"
         (tour.probe:13) ran before udev: modprobe dax_hmem's "INIT_WORK(defer_work,
         process_defer_work)" (tour.probe:6), which had not run yet (its thread was runnable, not
         yet scheduled); nothing orders them
       re-checked with the opposite order enforced: the property holds (the violating step can no
           longer be reached)"""


def test_tour_timeline_golden():
    model, _ = load_file(str(ROOT / "docs/examples/tour.probe"))
    [o] = check_model(model, "explicit", only=["flush_uninitialized_work"])
    assert timeline(model, o) == TOUR_TIMELINE


def test_v7_timeline_fits_one_screen_and_names_modules_functions_and_lines():
    model, outcomes = checked("specs/cxl/v7-6of7.probe")
    [o] = [o for o in outcomes if o.result.prop == "flush_uninitialized_work"]
    text = timeline(model, o)
    lines = text.splitlines()
    assert max(len(l) for l in lines) <= 100 and len(lines) <= 50
    for name in ("modprobe dax_hmem", "modprobe dax_cxl", "kw:cxl_dax_region_driver_work",
                 "cxl_dax_region_driver_register()", "flush_work(dax_hmem_work): func is NULL, WARN and return [125]", "!! flush_work"):
        assert name in " ".join(text.split()), name   # lines wrap inside a lane
    narrow = timeline(model, o, width=72)
    assert max(len(l) for l in narrow.splitlines()) <= 72
