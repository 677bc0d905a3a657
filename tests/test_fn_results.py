"""Functions that return a value (`fn f -> int`, `x = f();`), checked both ways by explicit and foata."""
from __future__ import annotations

import pytest

from modelcheck.errors import SpecError
from modelcheck.frontend import load_text
from rule_helpers import PROVED, VIOLATED, expect, spec

ERROR_PATH = """
    platform oom : bool;
    module m loadable {
      var err : int 0..9 = 0;
      driver d {
        probe { err = alloc_rings(); if err != 0 { return err; } return 0; }
      }
      device dev0 : d present;
      init { register_driver(d); }
    }
    fn alloc_rings -> int {
      if oom { return -ENOMEM; }
      return 0;
    }
"""


def test_rule_return_value_reaches_the_caller():
    """C's return: the value of `return -ENOMEM;` in the callee is what `err = f();` stores,
    and the callee stops there (the error path, as drivers write it, without a global flag)."""
    text = spec("an error path through a helper", ERROR_PATH + """
        final bound_unless_oom : bound(dev0) or oom;
        final err_means_oom : err == -ENOMEM -> oom;
        final never_fails : not oom -> err == 0;
        final always_bound : bound(dev0);
    """)
    expect(text, bound_unless_oom=PROVED, err_means_oom=PROVED, never_fails=PROVED, always_bound=VIOLATED)


def test_returned_value_is_range_checked_like_an_assignment():
    text = spec("a result outside the variable's range", """
        module m loadable {
          var small : int 0..1 = 0;
          init { small = three(); }
        }
        fn three -> int { return 3; }
    """)
    expect(text, value_in_range=VIOLATED)


def test_a_dropped_result_is_allowed():
    text = spec("f(); as a statement", """
        module m loadable { var n : int 0..3 = 0; init { bump(); } }
        fn bump -> int { n = n + 1; return n; }
        final bumped : n == 1;
    """)
    expect(text, bumped=PROVED)


@pytest.mark.parametrize("body, code", [
    ("fn f { }\nmodule m loadable { var x : int 0..3 = 0; init { x = f(); } }", "E232"),
    ("fn f -> bool { return true; }\nmodule m loadable { var x : int 0..3 = 0; init { x = f(); } }", "E232"),
    ("fn f -> int { return 1; }\nmodule m loadable { var x : int 0..3 = 0; init { if f() == 1 { } } }", "E232"),
    ("fn f -> int { return; }\nmodule m loadable { var x : int 0..3 = 0; init { x = f(); } }", "E233"),
])
def test_misused_results_are_errors(body, code):
    with pytest.raises(SpecError) as err:
        load_text(spec("misuse", body), "rule.probe")
    assert err.value.code == code
