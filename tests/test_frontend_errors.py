"""Every front-end error: the right code, at the right place, rendered with a caret and a fix.

The examples in modelcheck.errors.ERRORS are the documentation's examples, so each one is run
here and must raise its own code.
"""
from __future__ import annotations

import re
import sys

import pytest

from modelcheck.devtools.docs import COMMAND_EXAMPLES
from modelcheck.errors import ERRORS, SpecError
from modelcheck.frontend import load_file, load_text
from modelcheck.syntax.parser import MAX_NESTING

FILE = "t.probe"
HEADER = 'spec "t"\n'

# Where each table example's error points, once wrapped in HEADER: (line, col, text there).
EXAMPLE_AT = {
    "E100": (2, 32, ";"),
    "E101": (2, 10, "$"),
    "E102": (2, 20, ""),                      # just past the last character
    "E103": (2, 1, "invariant i :"),   # the declaration, not the innermost node
    "E200": (2, 28, "flag"),
    "E201": (3, 1, "platform p"),             # the second declaration
    "E202": (3, 39, "C"),
    "E203": (2, 28, "flush_wrok"),
    "E204": (2, 36, "flush_work(w, w)"),
    "E205": (2, 57, "true"),
    "E206": (2, 21, "var n"),
    "E207": (2, 18, "no_such_property"),
    "E208": (2, 8, "a()"),
    "E106": (2, 21, "99999999999999999999999"),
    "E107": (14, 64, "f64()"),
    "E108": (8, 28, "g15()"),          # the call whose tree is too large
    "E209": (2, 8, "a"),
    "E210": (2, 22, "early_boot"),
    "E211": (2, 1, "config C"),
    "E212": (2, 28, "continue"),
    "E502": (2, 57, "choose()"),
    "E213": (2, 35, "-EWHATEVER"),
    "E214": (2, 9, "no_such_check"),
    "E215": (1, 1, "module"),                 # not wrapped: the missing header is the error
    "E216": (3, 1, 'kconfig "Kconfig"'),
    "E217": (3, 8, "importer"),
    "E230": (5, 52, "w"),
    "E231": (3, 11, "ready"),
    "E232": (3, 58, "setup()"),
    "E233": (2, 19, "return;"),
    "E234": (5, 30, "queue_delayed_work(q, d)"),
    "E235": (2, 53, "kthread_should_stop()"),
    "E236": (4, 27, "9;"),
    "E237": (5, 55, "device_lock(d0)"),
    "E245": (3, 8, "guard(spinlock)"),
    "E246": (2, 13, "mutex lk holds count;"),
    "E247": (3, 25, "ref)"),
    "E248": (2, 13, "kref ref holds len;"),
    "E249": (4, 25, "c0"),
    "E250": (4, 25, "b0"),
    "E251": (5, 33, "p0"),
    "E252": (6, 33, "p0"),
    "E253": (6, 1, "supplier c0 -> c0;"),
    "E260": (2, 28, "suspend()"),
    "E261": (4, 47, "DL_FLAG_PM_RUNTIME"),
    "E262": (4, 47, "DL_FLAG_STATELESS | DL_FLAG_AUTOREMOVE_CONSUMER"),
    "E263": (2, 54, "1 | 2"),
    "E264": (4, 62, "device_link_remove(c0, s0)"),
    "E265": (3, 23, "device_link_add(s0, c0, 0)"),
    "E266": (4, 62, "device_link_add(c0, s0, DL_FLAG_STATELESS)"),
    "E267": (5, 43, "s, 0)"),
    "E268": (4, 23, "device_link_add(c0, s0, 0)"),
    "E269": (4, 3, "device d0 : a, a present;"),
    "E270": (3, 22, "return 2;"),
    "E271": (5, 3, "device d0 : a, b present;"),
    "E272": (2, 1, "config DEBUG_TEST_DRIVER_REMOVE : tristate;"),
    "E273": (3, 14, "probe { register_driver(b); }"),
    "E277": (4, 3, "hotplug device d0"),
    "E278": (5, 30, "device_add(d0)"),
    "E279": (5, 3, "hotplug device h"),
    "E280": (3, 21, "up -> up"),
    "E281": (2, 1, "eventually settles : true;"),
    "E301": (2, 1, 'kconfig "Kconfig"'),
    "E302": (2, 1, 'kconfig "/etc/passwd"'),
    "E303": (2, 1, 'kconfig "Kconfig.bad"'),
    "E304": (2, 1, 'kconfig "Kconfig.shell"'),
    "E305": (2, 1, 'config MODULES'),
    "E306": (2, 1, 'config CXL_BUS'),
    "E307": (2, 1, 'config CXL_PCII'),
}
NOT_WRAPPED = {"E215"}
# about files, not text: E300, E104, E105 are tested with load_file (E104, E105 in tests/test_limits.py),
# the extract/drift errors in test_extract/test_drift
NOT_TEXT = {"E300", "E104", "E105"} | set(COMMAND_EXAMPLES)
# Files an example needs beside the spec (the table's fragment names them but cannot carry them).
AUX_FILES = {
    "E216": {"Kconfig": 'config DEV_DAX_CXL\n\ttristate "CXL DAX"\n\tdepends on CXL_BUS\n'},
    "E303": {"Kconfig.bad": 'config A\n\tbool "a"\n\tfrobnicate\n'},
    "E304": {"Kconfig.shell": 'KERNEL := $(shell,uname -r)\nconfig A\n\tbool "a"\n'},
    "E306": {"Kconfig.types": 'config CXL_BUS\n\tbool "CXL bus"\n'},
    "E307": {"Kconfig.names": 'config CXL_PCI\n\ttristate "CXL PCI"\n'},
}
HIDDEN_PACKAGES = {"E301": "kconfiglib"}      # the example fails only without this package


def error_of(source: str, file: str = FILE) -> SpecError:
    """The SpecError that loading source raises (any other exception fails the test)."""
    with pytest.raises(SpecError) as info:
        load_text(source, file)
    return info.value


def text_at(source: str, line: int, col: int) -> str:
    return source.split("\n")[line - 1][col - 1:]


def assert_rendered(err: SpecError, source: str, file: str = FILE) -> None:
    """file:line:col, the code, the source line, a caret under the column, and help:."""
    out = err.render(source)
    sp = err.span
    assert out.startswith(f"{file}:{sp.line}:{sp.col}: error[{err.code}]: "), out
    shown = source.split("\n")[sp.line - 1].replace("\t", " ")
    lines = out.split("\n")
    source_line = next(i for i, l in enumerate(lines) if l.endswith(f"| {shown}"))
    caret = lines[source_line + 1]
    bar = caret.index("|")
    assert re.fullmatch(r" *\| *\^+", caret), caret
    assert caret.index("^") - bar - 1 == sp.col, (caret, sp)   # "| " then col-1 spaces
    assert lines[-1].startswith("  help: ") and len(lines[-1]) > len("  help: ")
    assert "Traceback" not in out


# --- the table ----------------------------------------------------------------

def test_every_code_has_a_located_example():
    assert set(ERRORS) - NOT_TEXT == set(EXAMPLE_AT)


@pytest.mark.parametrize("code", sorted(set(ERRORS) - NOT_TEXT))
def test_table_example_raises_its_code(code, tmp_path, monkeypatch):
    kind = ERRORS[code]
    source = kind.example if code in NOT_WRAPPED else HEADER + kind.example
    for name, text in AUX_FILES.get(code, {}).items():
        (tmp_path / name).write_text(text)
    if code in HIDDEN_PACKAGES:
        monkeypatch.setitem(sys.modules, HIDDEN_PACKAGES[code], None)   # `import` now fails
    file = str(tmp_path / FILE)
    err = error_of(source, file)
    assert err.code == code, err.render(source)
    line, col, text = EXAMPLE_AT[code]
    assert (err.span.file, err.span.line, err.span.col) == (file, line, col), err.render(source)
    assert text_at(source, line, col).startswith(text)
    assert err.hint
    assert_rendered(err, source, file)


def test_table_example_for_unreadable_file(tmp_path):
    missing = tmp_path / "missing.probe"
    with pytest.raises(SpecError) as info:
        load_file(str(missing))
    err = info.value
    assert err.code == "E300"
    out = err.render(None)
    assert out.startswith(f"{missing}:1:1: error[E300]: cannot read {missing}: ")
    assert out.count(str(missing)) == 2            # once as the place, once in the message
    assert "\n  help: " in out


def test_non_utf8_file_is_unreadable(tmp_path):
    path = tmp_path / "latin1.probe"
    path.write_bytes(b'spec "caf\xe9"\n')
    with pytest.raises(SpecError) as info:
        load_file(str(path))
    assert info.value.code == "E300"


def test_every_code_has_title_example_and_fix():
    for code, kind in ERRORS.items():
        assert kind.code == code and re.fullmatch(r"E[1-5]\d\d", code)
        assert kind.title and kind.example and kind.fix


# --- targeted cases -------------------------------------------------------------

CASES = [
    # (id, code, source after HEADER, (line, col) in the full source, text there)
    ("unknown-var", "E200",
     'module m loadable { init { flg = true; } var flag : bool = false; }', (2, 28), "flg"),
    ("unknown-in-invariant", "E200", "invariant i : nosuch;", (2, 15), "nosuch"),
    ("unknown-driver", "E200", "module m loadable { device x : nosuch present; }", (2, 21), "device x"),
    ("unknown-config", "E200", "module m if C { }", (2, 8), "m if C"),
    ("unknown-set", "E200", "module m loadable { init { for r in nothing { } } }", (2, 28), "for r"),
    ("duplicate-platform", "E201", "platform p : bool;\nplatform p : bool;", (3, 1), "platform"),
    ("duplicate-var-across-modules", "E201",
     "module a builtin { var v : bool = false; }\nmodule b builtin { var v : bool = false; }",
     (3, 20), "var v"),
    ("duplicate-driver", "E201", "module m loadable { driver d { } driver d { } }", (2, 41), "d { }"),
    ("duplicate-predefined", "E201", "module system_wq loadable { }", (2, 8), "system_wq"),
    ("duplicate-property", "E201", "invariant i : true;\ninvariant i : false;", (3, 1), "invariant"),
    ("duplicate-init-block", "E201", "module m loadable { init { } init { } }", (2, 30), "init"),
    ("duplicate-exit-block", "E201", "module m loadable { exit { } exit { } }", (2, 30), "exit"),
    ("duplicate-probe-block", "E201", "module m loadable { driver d { probe { } probe { } } }", (2, 42), "probe"),
    ("duplicate-remove-block", "E201",
     "module m loadable { driver d { remove { } remove { } } }", (2, 43), "remove"),
    ("duplicate-async-probe", "E201", "module m loadable { async_probe; async_probe = false; }", (2, 34), "async_probe"),
    ("duplicate-level", "E201", "builtin b { level device; level late; }", (2, 27), "level late"),
    ("arity-primitive", "E204", "module m loadable { init { wait_for_device_probe(1); } }", (2, 28), "wait_for"),
    ("arity-fn-too-few", "E204", "fn f(x) { }\nmodule m loadable { init { f(); } }", (3, 28), "f()"),
    ("arity-fn-too-many", "E204", "fn f { }\nmodule m loadable { init { f(1); } }", (3, 28), "f(1)"),
    ("bool-plus-int", "E205",
     "module m loadable { var n : int 0..3 = 0; init { n = n + true; } }", (2, 58), "true"),
    ("int-assigned-to-bool", "E205",
     "module m loadable { var b : bool = false; init { b = 1 + 1; } }", (2, 54), "1 + 1"),
    ("bool-compared-with-int", "E205", "final f : 1 == true;", (2, 11), "1 == true"),
    ("bool-ordered", "E205", "final f : true < false;", (2, 11), "true < false"),
    ("condition-assigned-to-int", "E205",
     "module m loadable { var n : int 0..3 = 0; init { n = n == n; } }", (2, 54), "n == n"),
    ("unknown-errno", "E213", "module m loadable { init { return -EWHATEVER; } }", (2, 35), "-EWHATEVER"),
    ("unknown-errno-in-probe", "E213",
     "module m loadable { driver d { probe { return -ENOPE; } } device x : d present;"
     " init { register_driver(d); } }", (2, 47), "-ENOPE"),
    ("continue-outside-loop", "E212", "module m loadable { init { continue; } }", (2, 28), "continue"),
    ("continue-nested-blocks", "E212", "module m loadable { init { { { continue; } } } }", (2, 32), "continue"),
    ("return-value-from-work-fn", "E212",
     "fn f { return 1; }\nmodule m loadable { work w = f; init { queue_work(system_wq, w); } }",
     (2, 8), "return 1"),
    ("return-errno-from-init-work", "E212",
     "fn f { return -EBUSY; }\n"
     "module m loadable { work w; init { init_work(w, f); queue_work(system_wq, w); } }",
     (2, 8), "return -EBUSY"),
    ("mutating-primitive-in-expression", "E212",
     "module m loadable { init { if register_driver(d) { } } driver d { } }", (2, 31), "register_driver"),
    ("recursion-direct", "E208", "fn a { a(); }\nmodule m loadable { init { a(); } }", (2, 8), "a()"),
    ("recursion-mutual", "E208",
     "fn a { b(); }\nfn b { a(); }\nmodule m loadable { init { a(); } }", (3, 8), "a()"),
    ("module-cycle-self", "E209", "module m loadable { uses m; }", (2, 8), "m"),
    ("module-cycle-three", "E209",
     "module a loadable { uses b; }\nmodule b loadable { uses c; }\nmodule c loadable { uses a; }",
     (2, 8), "a"),
    ("initcall-level-block", "E210", "builtin b { initcall early_boot { } }", (2, 22), "early_boot"),
    ("initcall-level-member", "E210", "module m loadable { level nosuch; }", (2, 8), "m"),
    ("kconfig-bool-m", "E211", "config C : bool = m;", (2, 1), "config"),
    ("kconfig-tristate-x", "E211", "config C : tristate = x;", (2, 1), "config"),
    ("expect-unknown", "E207", "expect violation no_such_property;", (2, 18), "no_such_property"),
    ("expect-disabled", "E207", "disable deadlock;\nexpect holds deadlock;", (3, 14), "deadlock"),
    ("expect-holds-unknown", "E207", "expect holds nope;", (2, 14), "nope"),
    ("disable-unknown", "E214", "disable no_such_check;", (2, 9), "no_such_check"),
    ("disable-user-property", "E214", "invariant i : true;\ndisable i;", (3, 9), "i"),
    ("unterminated-module", "E102", "module m loadable {", (2, 20), ""),
    ("unterminated-init", "E102", "module m loadable {\n  init {\n    flush_work(w);\n", (4, 19), ""),
    ("unterminated-call", "E102", "module m loadable { init { f(", (2, 30), ""),
    ("unterminated-header", "E102", "config C :", (2, 11), ""),
    ("stray-dollar", "E101", "module m loadable { init { $ } }", (2, 28), "$"),
    ("stray-backtick", "E101", "platform p : bool;`", (2, 19), "`"),
    ("stray-unicode", "E101", "platform p : bool; \u00e9", (2, 20), "\u00e9"),
    ("unterminated-string", "E101", 'source "no end\nplatform p : bool;', (2, 8), '"'),
    ("stray-control-char", "E101", "platform p : bool;\x1c", (2, 19), "\x1c"),
    ("syntax-missing-semicolon", "E100", "platform p : bool\nplatform q : bool;", (3, 1), "platform"),
    ("syntax-member-at-top", "E100", "driver d { }", (2, 1), "driver"),
    ("syntax-fn-in-module", "E100", "module m loadable { fn f { } }", (2, 21), "fn"),
    ("too-deep-not", "E103", "invariant i : " + "not " * (MAX_NESTING + 5) + "true;", None, None),
    ("too-deep-and", "E103", "invariant i : true" + " and true" * MAX_NESTING + ";", None, None),
    ("too-deep-sum", "E103",
     "module m builtin { var x : int 0..3 = 0; }\ninvariant i : x" + " + 1" * MAX_NESTING + " > 0;", None, None),
    ("too-deep-blocks", "E103",
     "module m loadable { init { " + "{ " * MAX_NESTING + "} " * MAX_NESTING + "} }", None, None),
    ("too-deep-else-if", "E103",
     "module m loadable { init { if true { }" + " else if true { }" * MAX_NESTING + " } }", None, None),
]


@pytest.mark.parametrize("code,body,at,text", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_targeted_error(code, body, at, text):
    source = HEADER + body
    err = error_of(source)
    assert err.code == code, err.render(source)
    assert err.span.file == FILE
    if at is not None:
        assert (err.span.line, err.span.col) == at, err.render(source)
        assert text_at(source, *at).startswith(text)
    assert_rendered(err, source)


def test_syntax_error_lists_what_may_come_next():
    source = HEADER + "module m loadable { init { x = ; } }"
    err = error_of(source)
    assert err.hint.startswith("expected ") and "a number" in err.hint


def test_syntax_error_at_end_of_file_says_so():
    err = error_of(HEADER + "platform p :")
    assert err.code == "E102"


def test_missing_title_points_at_start_of_file():
    err = error_of("module m loadable { }")
    assert err.code == "E215" and (err.span.line, err.span.col) == (1, 1)
    assert_rendered(err, "module m loadable { }")


def test_empty_file_is_an_error_with_a_caret():
    err = error_of("")
    assert err.code == "E215"
    out = err.render("")
    assert out.startswith(f"{FILE}:1:1: error[E215]") and "^" in out and "help:" in out


@pytest.mark.parametrize("sep", ["\r\n", "\n"])
def test_line_endings_do_not_shift_the_caret(sep):
    source = sep.join([HEADER.strip(), "platform p : bool;", "platform q : bool $"])
    err = error_of(source)
    assert (err.code, err.span.line, err.span.col) == ("E101", 3, 19)
    assert_rendered(err, source.replace("\r", ""))
    assert "\r" not in err.render(source)


def test_form_feed_is_not_a_line_break_in_the_rendering():
    source = HEADER + "platform p : bool;\x0cplatform q : bool $"
    err = error_of(source)
    assert (err.span.line, err.span.col) == (2, 38)
    assert "platform q : bool $" in err.render(source).split("\n")[1]


def test_nesting_just_under_the_limit_is_accepted():
    depth = MAX_NESTING // 2 - 5   # each level of `if` is two tree levels: block and if_stmt
    body = ("module m loadable { var b : bool = false; init { "
            + "if not b { " * depth + "b = true; " + "} " * depth + "} }")
    assert load_text(HEADER + body, FILE) is not None


# --- known bugs outside the front end (modelcheck/semantics) ----------------------

def no_deep_traceback(fn, *args):
    """fn(*args), with a RecursionError re-raised short: pytest takes seconds to format 1000 frames."""
    try:
        return fn(*args)
    except RecursionError as exc:
        raise RecursionError(str(exc)) from None


REQUEST_MODULE_CYCLES = [
    ("itself", "module m loadable { init { request_module(m); } }"),
    ("each-other", "module a loadable { init { request_module(b); } }\n"
                   "module b loadable { init { request_module(a); } }"),
    ("through-uses", "module a loadable { uses b; }\nmodule b loadable { init { request_module(a); } }"),
    ("through-fn", "fn f { request_module(m); }\nmodule m loadable { init { f(); } }"),
    ("through-probe", "module m loadable { driver d { probe { request_module(m); } } "
                      "device x : d present; init { register_driver(d); } }"),
]


@pytest.mark.parametrize("body", [b for _, b in REQUEST_MODULE_CYCLES], ids=[i for i, _ in REQUEST_MODULE_CYCLES])
def test_request_module_cycle_compiles_to_a_wait_that_never_ends(body):
    """modprobe of a module whose load this thread is running waits for it forever (§2.1)."""
    model = no_deep_traceback(load_text, HEADER + body, FILE)
    assert any("whose load this thread is running" in e.label
               for t in model.threads for loc in t.locations for e in loc.edges)


def test_request_module_of_itself_is_found_as_a_deadlock():
    from modelcheck.checker import check_model
    model = load_text(HEADER + REQUEST_MODULE_CYCLES[0][1], FILE)
    [o] = check_model(model, "explicit", only=["deadlock"])
    assert o.result.verdict.value == "VIOLATED"


SOFTDEP_CYCLES = [
    ("itself", "module m loadable { softdep m; }"),
    ("each-other", "module a loadable { softdep b; }\nmodule b loadable { softdep a; }"),
    ("with-uses", "module a loadable { softdep b; }\nmodule b loadable { uses a; }"),
]


@pytest.mark.parametrize("body", [b for _, b in SOFTDEP_CYCLES], ids=[i for i, _ in SOFTDEP_CYCLES])
def test_softdep_cycle_loads(body):
    """libkmod drops a softdep loop; the modules still load."""
    assert no_deep_traceback(load_text, HEADER + body, FILE) is not None


def outcome_of(source: str):
    """A Model or a SpecError: either is fine, anything else is a bug."""
    try:
        return load_text(source, FILE)
    except SpecError as exc:
        return exc


def test_assert_named_like_builtin_points_at_the_assert():
    err = error_of(HEADER + "module m loadable { init { assert deadlock : true; } }")
    assert err.code == "E201" and (err.span.line, err.span.col) == (2, 28)


UNREACHED = [
    ("uncalled-fn", "fn f { nosuch = 1; }"),
    ("uncalled-recursive-fn", "fn a { a(); }"),
    ("exit-of-module-never-unloaded", "module m loadable { exit { nosuch = 1; } }"),
    ("async-probe-of-module-without-drivers", "module m loadable { async_probe = nosuch; }"),
]


@pytest.mark.parametrize("body", [b for _, b in UNREACHED], ids=[i for i, _ in UNREACHED])
def test_errors_in_unreached_code_are_reported(body):
    error_of(HEADER + body)


def test_error_in_probe_of_driver_without_device_is_reported():
    error_of(HEADER + "module m loadable { driver d { probe { return -EWHATEVER; } } "
             "init { register_driver(d); } }")


def test_function_with_a_range_parameter_that_nothing_calls_compiles():
    """The unused function is checked with each range in turn; one of the right kind fits."""
    load_text(HEADER + """
        window cfmws0 @ 0x1000 .. 0x1fff;
        range sr0 : soft_reserved @ 0x3000 .. 0x3fff;
        module dax_hmem loadable {
          driver dax_hmem_driver { probe(r) { } }
          device hmem[r in soft_reserved] : dax_hmem_driver;
          init { register_driver(dax_hmem_driver); }
        }
        fn f(r) { device_add(hmem, r); }
    """)


def test_a_state_name_in_an_expression_points_to_the_queries():
    """`d0.hotplug` and `d0.bound` are how traces name the checker's state; in a spec the
    same question is a query, and the help says which."""
    err = error_of(HEADER + "module m builtin { driver d { probe { } } hotplug device d0 : d; }\n"
                   "require d0.hotplug == 1;")
    assert (err.code, err.span.line, err.span.col) == ("E101", 3, 11)
    assert "device_is_registered(d0)" in err.hint and "bound(d0)" in err.hint
    assert "device_is_registered" not in error_of(HEADER + "platform p : int 0..3 = 1.5;").hint


def test_an_expect_on_an_absent_builtin_check_says_what_brings_it():
    """A built-in check exists only where the spec has what it checks: E207 says what that is,
    for every check that is not in every spec, and that the expect line can go."""
    from modelcheck.semantics.compile import BUILTIN_PROPERTIES, WHEN_BUILTIN
    assert set(BUILTIN_PROPERTIES) - set(WHEN_BUILTIN) == {"deadlock", "livelock"}
    err = error_of(HEADER + "module m builtin { }\nexpect holds device_added_twice;")
    assert err.code == "E207" and "device_add" in err.message
    assert err.hint.startswith("remove this expect line")


def test_a_backslash_quote_in_a_string_says_strings_have_no_escapes():
    err = error_of('spec "a \\"quoted\\" title"\nmodule m builtin { }\n')
    assert (err.code, err.span.line, err.span.col) == ("E100", 1, 11)
    assert "no escapes" in err.hint


def test_a_value_passed_to_a_fn_says_its_parameters_are_ranges():
    err = error_of(HEADER + "module m builtin { init { f(1); } }\nfn f(r) { }")
    assert err.code == "E202" and "parameters are ranges" in err.hint
