"""Every test run caches verdicts in a directory of its own, never in the user's cache."""
import os
import tempfile

_HOME = tempfile.mkdtemp(prefix="modelcheck-test-")
os.environ["MODELCHECK_CACHE_DIR"] = os.path.join(_HOME, "cache")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_HOME, "config")
