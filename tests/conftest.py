"""Every test run caches verdicts in a directory of its own, never in the user's cache; and the
process limits a command sets when a test runs it in-process (modelcheck/limits.py: the address
space cap, the SIGTERM handler) end with that test, so no later test or program it starts inherits
them (Chromium, for one, dies under the address-space cap)."""
import os
import resource
import signal
import tempfile

import pytest

_HOME = tempfile.mkdtemp(prefix="modelcheck-test-")
os.environ["MODELCHECK_CACHE_DIR"] = os.path.join(_HOME, "cache")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_HOME, "config")


@pytest.fixture(autouse=True)
def _process_limits_end_with_the_test():
    address_space = resource.getrlimit(resource.RLIMIT_AS)
    on_sigterm = signal.getsignal(signal.SIGTERM)
    yield
    resource.setrlimit(resource.RLIMIT_AS, address_space)
    signal.signal(signal.SIGTERM, on_sigterm)


@pytest.fixture
def spin():
    """SPIN and gcc for an agreement test: skipped without them, except in CI, where .ci/run
    installs them and their absence fails the test (spin_agreement.require_spin)."""
    from spin_agreement import require_spin
    require_spin()
