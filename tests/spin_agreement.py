"""SPIN's verdicts on a model's properties, safety and liveness alike, for the agreement tests."""
import os

import pytest

from modelcheck.promela import LIVENESS_KINDS, SpinBuild, spin_available


def require_spin() -> None:
    """Skip without spin and gcc, except in CI, where .ci/run installs them: there it fails."""
    if spin_available():
        return
    if os.environ.get("CI"):
        pytest.fail("spin and gcc are required in CI (.ci/run installs spin)")
    pytest.skip("spin or gcc is not installed")


def spin_verdict(model, prop: str, workdir) -> str:
    """SPIN's "holds" or "violated" for one safety property, from a complete pan run."""
    require_spin()
    with SpinBuild(model, [prop], str(workdir)) as build:
        run = build.run(prop)
    assert run.complete, run.output[-800:]
    return run.verdict


def spin_verdicts(model, props, workdir) -> dict[str, str]:
    """{property: "holds" | "violated"} from SPIN for each name in `props`: the safety ones from
    one exported pan (SpinBuild.decide_all), the liveness ones (livelock, hung_task, ...) from
    pan -a -f on their never claims (promela_liveness.LivenessBuild). Asserts every run
    completed, so an incomplete search never passes for agreement."""
    require_spin()
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
