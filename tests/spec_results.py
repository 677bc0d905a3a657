"""Each bundled spec is checked once per test session and shared by the tests that need it."""
from functools import lru_cache
from pathlib import Path

from modelcheck.checker import check_model
from modelcheck.frontend import load_text
from modelcheck.result import EngineOptions

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATHS = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("specs/**/*.probe"))


@lru_cache(maxsize=None)
def checked(rel_path: str):
    """(model, outcomes) of a spec under specs/, with the explicit engine, as `report` runs it."""
    model = load_text((ROOT / rel_path).read_text(encoding="utf-8"), rel_path)   # paths as report prints them
    return model, check_model(model, "explicit", EngineOptions(timeout=600))
