"""`modelcheck mutate`: mutants of a spec that checks clean, killed or surviving."""
from __future__ import annotations

from modelcheck.cli import main
from modelcheck.commands.mutate import mutants

SPEC = '''spec "flush before reading what the work wrote"
platform fast : bool;
module a loadable {
  var done : bool = false;
  var noted : bool = false;
  work w = f;
  driver d { probe { } }
  device d0 : d present;
  init { register_driver(d); queue_work(system_wq, w); flush_work(w); assert done_after_flush : done; }
}
fn f { done = true; if fast { noted = true; } }
module b loadable { uses a; init { } }
expect holds done_after_flush;
'''


def test_every_operator_applies():
    ops = {m.operator for m in mutants(SPEC)}
    assert ops == {"drop flush_work", "swap statements", "negate if", "prefer_async", "remove uses"}
    dropped = [m for m in mutants(SPEC) if m.operator == "drop flush_work"]
    assert len(dropped) == 1 and "flush_work" not in dropped[0].text


def test_score_and_survivors_are_written(tmp_path, capsys):
    spec = tmp_path / "s.probe"
    spec.write_text(SPEC)
    out = tmp_path / "soundness.md"
    out.write_text("# Soundness\n\nearlier text\n")
    assert main(["mutate", str(spec), "-o", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Soundness\n\nearlier text\n")
    assert "<!-- BEGIN mutate -->" in text and "Mutation score: **" in text
    assert "drop flush_work" not in text.split("### Surviving mutants")[1]   # that mutant is killed
    assert "negate if: negated `if fast`" in text                          # noted is never checked
    again = main(["mutate", str(spec), "-o", str(out)])
    assert again == 0 and out.read_text().count("<!-- BEGIN mutate -->") == 1


def test_without_o_nothing_is_written_and_with_it_the_path_is_printed(tmp_path, capsys, monkeypatch):
    """A committed results/soundness.md is replaced only when asked for with -o."""
    spec = tmp_path / "s.probe"
    spec.write_text(SPEC)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    committed = tmp_path / "results" / "soundness.md"
    committed.write_text("# Soundness\n\ncommitted\n")
    assert main(["mutate", str(spec)]) == 0
    assert committed.read_text() == "# Soundness\n\ncommitted\n"
    assert "wrote" not in capsys.readouterr().out
    out = tmp_path / "score.md"
    assert main(["mutate", str(spec), "-o", str(out)]) == 0
    assert f"modelcheck: wrote the mutate section of {out}" in capsys.readouterr().out
    assert "<!-- BEGIN mutate -->" in out.read_text()


def test_soak_writes_only_when_asked(tmp_path, capsys, monkeypatch):
    from modelcheck.devtools import soak
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    committed = tmp_path / "results" / "soundness.md"
    committed.write_text("committed\n")
    assert soak.main(["--specs", "2", "--minutes", "1"]) == 0
    assert committed.read_text() == "committed\n"
    out = tmp_path / "soak.md"
    assert soak.main(["--specs", "2", "--minutes", "1", "-o", str(out)]) == 0
    assert f"wrote the soak section of {out}" in capsys.readouterr().out
    assert "<!-- BEGIN soak -->" in out.read_text()
