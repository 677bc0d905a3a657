"""SPIN's verdicts on a model's properties, safety and liveness alike, for the agreement tests."""
from modelcheck.promela import LIVENESS_KINDS, SpinBuild


def spin_verdicts(model, props, workdir) -> dict[str, str]:
    """{property: "holds" | "violated"} from SPIN for each name in `props`: the safety ones from
    one exported pan (SpinBuild.decide_all), the liveness ones (livelock, hung_task, ...) from
    pan -a -f on their never claims (promela_liveness.LivenessBuild). Asserts every run
    completed, so an incomplete search never passes for agreement."""
    live = [p for p in props if model.property(p).kind in LIVENESS_KINDS]
    safety = [p for p in props if p not in live]
    runs = {}
    if safety:
        with SpinBuild(model, safety, str(workdir)) as build:
            runs.update(build.decide_all())
    if live:
        from modelcheck.promela_liveness import LivenessBuild
        with LivenessBuild(model, live, timeout=300) as build:
            runs.update((p, build.run(p)) for p in live)
    incomplete = {p: run.output[-600:] for p, run in runs.items() if not run.complete}
    assert not incomplete, incomplete
    return {p: run.verdict for p, run in runs.items()}
