"""Counterexamples for other readers: ITF JSON for tools, Mermaid, HTML and Markdown for people.

Every renderer takes (model, outcome) of a VIOLATED property (outcome.replay is set) and
returns the whole document as a string ending in a newline. `TRACE_RENDERERS` maps each
format name to its renderer; `modelcheck trace --format` and `modelcheck check
--trace-format` accept these names.

Every step the text and timeline traces show is kept in `itf` (each state's `#meta` says
`"relevant": true` or false, as `modelcheck.minimize` decides) and in `html` (where the steps
that do not affect the violation are grey); `mermaid` and `markdown` fold runs of them into
one note or row, as the timeline does, unless `full` (`--full-trace`) asks for every step.

- `itf`: the Informal Trace Format of Apalache and Quint
  (https://apalache-mc.org/docs/adr/015adr-trace.html). `vars` are the model's variables
  except function locals (the same ones the text trace shows changing). Program counters are
  NOT variables: a location index means nothing outside the compiled model; instead each
  state after the first carries, in its `#meta`, the step that led to it (thread, action
  label, spec file and line, properties whose checks failed). Two-valued variables labelled
  false/true are JSON booleans, other labelled variables (n/m/y, module states) are strings,
  the rest integers (`{"#bigint": "N"}` outside the JavaScript safe range).
- `mermaid`: a sequenceDiagram, one participant per thread that moves, one note per step
  on its thread with the spec line; the violating step sits in a red `rect` with its message.
- `html`: one self-contained page (inline CSS and SVG, no scripts, no external references):
  an SVG timeline with one lane per thread and steps downwards (hover a step for the state
  changes), then the step table.
- `markdown`: the config/platform header and a table (step, thread, action, spec line,
  changes), ready to paste into a GitHub issue or pull request.
"""
from __future__ import annotations

import html as _html
import json
import os

from .lasso import cycle_label, cycle_start, prefix_label
from ..checker import Outcome
from ..ir import Model, Variable
from ..minimize import fold_file, fold_lines, fold_summary, relevant_in_replay
from ..wording import count
from ..race import claim_lines, claims_json, races_of
from .blocking import deadlock_picture, ending_lines, waits_for_json
from .text import choices, shown_steps, step_changes

JS_SAFE = 2 ** 53 - 1
ITF_ADR = "https://apalache-mc.org/docs/adr/015adr-trace.html"


# --- shared -------------------------------------------------------------------

def _where(step) -> str:
    span = step.edge.span
    return f"{os.path.basename(span.file)}:{span.line}" if span else ""


def _action(step) -> str:
    return step.edge.label or "(internal step)"


def _messages(step, prop: str) -> list[str]:
    """The failure messages of `prop` on this step (empty unless it violates a check)."""
    if prop not in step.failed:
        return []
    return [c.message for c in step.edge.checks if c.prop == prop]


def _violating_index(model: Model, outcome: Outcome) -> int:
    """The step that shows the violation: the one failing the check, else the last one."""
    prop = outcome.result.prop
    steps = outcome.replay.steps
    for step in steps:
        if prop in step.failed:
            return step.index
    return steps[-1].index if steps else 0


def _relevant(model: Model, outcome: Outcome) -> set[int]:
    return relevant_in_replay(model, outcome.replay, outcome.result.prop)


def _fold_where(run) -> str:
    return f"{fold_file(run)}:{fold_lines(run)}" if fold_lines(run) else ""


def _end_note(model: Model, outcome: Outcome) -> str:
    """The first line of how the trace ends (empty for check properties)."""
    lines = ending_lines(model, outcome)
    return lines[0] if lines else ""


def _waits_for(model: Model, outcome: Outcome) -> list[str]:
    """The waits-for picture of a deadlock (empty otherwise), then the races, as text lines."""
    return ending_lines(model, outcome)[1:] + claim_lines(races_of(model, outcome))


def _header(model: Model, outcome: Outcome) -> tuple[str, str, str]:
    prop = model.property(outcome.result.prop)
    config, platform = choices(model, outcome.replay.initial.values)
    title = f"{prop.name}: VIOLATED in {count(len(outcome.replay.steps), 'step')} -- {prop.description}"
    return title, config, platform


# --- ITF ----------------------------------------------------------------------

def itf_vars(model: Model) -> list[Variable]:
    return [v for v in model.variables if v.role != "local"]


def itf_value(var: Variable, value: int):
    if var.labels == ("false", "true") and var.lo == 0:
        return bool(value)
    numeric = all(label == str(var.lo + i) for i, label in enumerate(var.labels))
    if var.labels and not numeric and var.lo <= value <= var.hi:
        return var.labels[value - var.lo]
    if -JS_SAFE <= value <= JS_SAFE:
        return value
    return {"#bigint": str(value)}


def itf_doc(model: Model, outcome: Outcome) -> dict:
    relevant = _relevant(model, outcome)
    variables = itf_vars(model)
    index = {v.name: i for i, v in enumerate(model.variables)}
    replay = outcome.replay
    prop = model.property(outcome.result.prop)
    config, platform = choices(model, replay.initial.values)

    def state(values, meta):
        out = {"#meta": meta}
        for var in variables:
            out[var.name] = itf_value(var, values[index[var.name]])
        return out

    states = [state(replay.initial.values, {"index": 0, "step": "initial state",
                                             "config": config, "platform": platform})]
    for step in replay.steps:
        meta = {"index": step.index, "thread": step.thread, "action": _action(step),
                "relevant": step.index in relevant}
        if step.edge.span:       # internal steps (kernel bookkeeping) have no spec line
            meta.update(file=step.edge.span.file, line=step.edge.span.line)
        if step.failed:
            meta["failed"] = list(step.failed)
        messages = _messages(step, prop.name)
        if messages:
            meta["violation"] = messages
        states.append(state(step.after.values, meta))
    meta = {}
    if ending_lines(model, outcome):
        meta["ending"] = ending_lines(model, outcome)
    if deadlock_picture(model, outcome) is not None:
        meta["waits-for"] = waits_for_json(deadlock_picture(model, outcome))
    meta["races"] = claims_json(races_of(model, outcome))
    doc = {
        "#meta": {**meta, "format": "ITF", "format-description": ITF_ADR, "source": model.file,
                  "description": f"{model.title}: counterexample of {prop.name} ({prop.description})",
                  "property": prop.name, "verdict": outcome.result.label,
                  "program-counters": "not included; see each state's #meta for the step taken"},
        "vars": [v.name for v in variables],
        "states": states,
    }
    if cycle_start(outcome) is not None:     # ITF's lasso: the last state goes back to this one
        doc["loop"] = cycle_start(outcome) - 1
        doc["#meta"]["lasso"] = cycle_label(outcome)
    return doc


def itf(model: Model, outcome: Outcome, full: bool = False) -> str:
    return json.dumps(itf_doc(model, outcome), indent=2, ensure_ascii=False) + "\n"


# --- Mermaid ------------------------------------------------------------------

def _mm(text: str) -> str:
    """Text safe inside a Mermaid sequence-diagram statement: ';' ends one, '#' starts an entity
    (#59;), a newline ends the line and '<' would start an HTML tag."""
    out = []
    for ch in text:
        if ch == "#":
            out.append("#35;")
        elif ch == ";":
            out.append("#59;")
        elif ch == "<":
            out.append("#lt;")
        elif ch in "\r\n":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def mermaid(model: Model, outcome: Outcome, full: bool = False) -> str:
    replay = outcome.replay
    title, config, platform = _header(model, outcome)
    lanes = list(dict.fromkeys(s.thread for s in replay.steps))
    ids = {name: f"T{i}" for i, name in enumerate(lanes)}
    bad = _violating_index(model, outcome)
    lines = ["sequenceDiagram",
             f"    %% {_mm(model.file)}: {_mm(title)}",
             f"    %% config: {_mm(config)}",
             f"    %% platform: {_mm(platform)}"]
    lines += [f"    participant {ids[name]} as {_mm(name)}" for name in lanes]
    for step in shown_steps(model, outcome, full):
        first = step[0] if isinstance(step, list) else step
        if first.index == cycle_start(outcome):
            lines.append(f"    loop {_mm(cycle_label(outcome))}")
        if isinstance(step, list):
            where = _fold_where(step)
            lines.append(f"    Note over {ids[step[0].thread]}: {_mm(fold_summary(step))}"
                         + (f" [{_mm(where)}]" if where else ""))
            continue
        where = _where(step)
        parts = [f"{step.index}. " + _mm(_action(step).replace(" ; ", " / then "))
                 + (f" [{_mm(where)}]" if where else "")]
        parts += [_mm(c) for c in step_changes(model, step.before, step.after)]
        messages = _messages(step, outcome.result.prop)
        parts += [f"!! {_mm(m)}" for m in messages]
        note = f"    Note over {ids[step.thread]}: " + "<br/>".join(parts)
        if step.index == bad:
            lines += ["    rect rgb(255, 205, 205)", "    " + note, "    end"]
        else:
            lines.append(note)
    if cycle_start(outcome) is not None:
        lines.append("    end")
    end = _end_note(model, outcome)
    span = (ids[lanes[0]] if len(lanes) == 1 else f"{ids[lanes[0]]},{ids[lanes[-1]]}") if lanes else ""
    if end and lanes:
        lines += ["    rect rgb(255, 205, 205)", f"    Note over {span}: !! {_mm(end)}", "    end"]
    waits = _waits_for(model, outcome)
    if waits and lanes:
        lines.append(f"    Note over {span}: " + "<br/>".join(_mm(w.strip()) for w in waits))
    return "\n".join(lines) + "\n"


# --- Markdown -----------------------------------------------------------------

def _md(text: str) -> str:
    return (text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")
            .replace(">", "&gt;").replace("*", "\\*").replace("_", "\\_"))


def _code(text: str) -> str:
    """A code span inside a GitHub table cell: a bare '|' would still end the cell."""
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def markdown(model: Model, outcome: Outcome, full: bool = False) -> str:
    replay = outcome.replay
    prop = model.property(outcome.result.prop)
    config, platform = choices(model, replay.initial.values)
    bad = _violating_index(model, outcome)
    lines = [f"### `{prop.name}`: VIOLATED in {count(len(replay.steps), 'step')}",
             "",
             f"{_md(prop.description)}",
             "",
             f"- spec: {_code(model.file)} ({_md(model.title)})",
             f"- config: {_code(config)}",
             f"- platform: {_code(platform)}",
             "",
             "| step | thread | action | spec line | changes |",
             "|---:|---|---|---|---|"]
    for step in shown_steps(model, outcome, full):
        first = step[0] if isinstance(step, list) else step
        if first.index == 1 and prefix_label(outcome):
            lines.append(f"| | | **{_md(prefix_label(outcome))}** | | |")
        if first.index == cycle_start(outcome):
            lines.append(f"| | | **{_md(cycle_label(outcome))}** | | |")
        if isinstance(step, list):
            where = _code(_fold_where(step)) if _fold_where(step) else ""
            summary = _md(fold_summary(step).replace(f" ({step[0].index}-{step[-1].index})", ""))
            lines.append(f"| {step[0].index}-{step[-1].index} | {_md(step[0].thread)} | *{summary}* | {where} | |")
            continue
        action = "<br>".join(_md(a) if i == 0 else "then " + _md(a)
                             for i, a in enumerate(_action(step).split(" ; ")))
        changes = [_code(c) for c in step_changes(model, step.before, step.after)]
        changes += [f"**!! {_md(m)}**" for m in _messages(step, prop.name)]
        index = f"**{step.index}**" if step.index == bad else str(step.index)
        where = _code(_where(step)) if _where(step) else ""
        lines.append(f"| {index} | {_md(step.thread)} | {action} | {where} | {'<br>'.join(changes)} |")
    end = _end_note(model, outcome)
    if end:
        lines += ["", f"**!! {_md(end)}**"]
    waits = _waits_for(model, outcome)
    if waits:
        lines += ["", "```", *waits, "```"]
    return "\n".join(lines) + "\n"


# --- HTML ---------------------------------------------------------------------

LANE = 190        # px between lanes
ROW = 30          # px per step
TOP = 56          # room for the lane titles
LEFT = 44         # room for step numbers
CHAR = 6.6        # rough px per character of the 12px monospace label

CSS = """\
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1b1f23}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
p.meta{margin:2px 0;font-size:14px}code{font-family:ui-monospace,Menlo,Consolas,monospace}
svg{border:1px solid #d0d7de;background:#fff}
svg text{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
svg .lane{stroke:#d0d7de;stroke-width:2}svg .title{font-weight:bold}
svg .dot{fill:#0969da}svg .bad .dot{fill:#cf222e}svg .bad text{fill:#cf222e;font-weight:bold}
svg .row:hover rect.hl{fill:#fff8c5}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #d0d7de;padding:3px 6px;vertical-align:top;text-align:left}
tr.bad td{background:#ffebe9}tr.aside td,svg .aside text{fill:#8c959f;color:#8c959f}svg .aside .dot{fill:#afb8c1}td.n{text-align:right}.msg{color:#cf222e;font-weight:bold}"""


def _h(text) -> str:
    return _html.escape(str(text), quote=True)


def _svg(model: Model, outcome: Outcome) -> str:
    replay = outcome.replay
    relevant = _relevant(model, outcome)
    lanes = list(dict.fromkeys(s.thread for s in replay.steps))
    bad = _violating_index(model, outcome)
    longest = max((len(_action(s)) + len(_where(s)) + 3 for s in replay.steps), default=20)
    width = int(LEFT + LANE * max(0, len(lanes) - 1) + 20 + min(longest, 90) * CHAR + 20)
    height = TOP + ROW * len(replay.steps) + 20
    out = [f'<svg role="img" aria-label="timeline" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}">']
    for i, name in enumerate(lanes):
        x = LEFT + 10 + LANE * i
        out.append(f'<line class="lane" x1="{x}" y1="{TOP - 12}" x2="{x}" y2="{height - 10}"/>')
        short = name if len(name) <= LANE // 7 else name[:LANE // 7 - 1] + "\u2026"
        out.append(f'<text class="title" x="{x - 6}" y="{22 + 16 * (i % 2)}"><title>{_h(name)}</title>{_h(short)}</text>')
    for step in replay.steps:
        x = LEFT + 10 + LANE * lanes.index(step.thread)
        y = TOP + ROW * (step.index - 1) + ROW // 2
        where = _where(step)
        label = _action(step) + (f" [{where}]" if where else "")
        room = max(10, int((width - x - 20) / CHAR))
        shown = label if len(label) <= room else label[:room - 1] + "\u2026"
        tip = [f"step {step.index} ({step.thread}): {label}"]
        tip += step_changes(model, step.before, step.after) or ["(no state change)"]
        tip += [f"!! {m}" for m in _messages(step, outcome.result.prop)]
        cls = "row bad" if step.index == bad else "row" if step.index in relevant else "row aside"
        out.append(f'<g class="{cls}" id="s{step.index}"><title>{_h(chr(10).join(tip))}</title>'
                   f'<rect class="hl" x="0" y="{y - ROW // 2}" width="{width}" height="{ROW}" fill="transparent"/>'
                   f'<text x="6" y="{y + 4}">{step.index}</text>'
                   f'<circle class="dot" cx="{x}" cy="{y}" r="6"/>'
                   f'<text x="{x + 12}" y="{y + 4}">{_h(shown)}</text></g>')
    out.append("</svg>")
    return "\n".join(out)


def html(model: Model, outcome: Outcome, full: bool = False) -> str:
    replay = outcome.replay
    relevant = _relevant(model, outcome)
    prop = model.property(outcome.result.prop)
    config, platform = choices(model, replay.initial.values)
    bad = _violating_index(model, outcome)
    rows = []
    for step in replay.steps:
        action = "<br/>".join(_h(a) if i == 0 else "then " + _h(a)
                              for i, a in enumerate(_action(step).split(" ; ")))
        changes = [f"<code>{_h(c)}</code>" for c in step_changes(model, step.before, step.after)]
        changes += [f'<span class="msg">!! {_h(m)}</span>' for m in _messages(step, prop.name)]
        cls = ' class="bad"' if step.index == bad else "" if step.index in relevant else ' class="aside"'
        if step.index == 1 and prefix_label(outcome):
            rows.append(f'<tr class="lasso"><td colspan="5" style="font-weight:bold">{_h(prefix_label(outcome))}</td></tr>')
        if step.index == cycle_start(outcome):
            rows.append(f'<tr class="lasso"><td colspan="5" style="font-weight:bold">{_h(cycle_label(outcome))}</td></tr>')
        rows.append(f'<tr{cls}><td class="n">{step.index}</td><td>{_h(step.thread)}</td>'
                    f'<td>{action}</td><td><code>{_h(_where(step))}</code></td>'
                    f'<td>{"<br/>".join(changes)}</td></tr>')
    end = _end_note(model, outcome)
    title = f"{prop.name}: VIOLATED in {count(len(replay.steps), 'step')}"
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8"/>',
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
        f"<title>{_h(title)} ({_h(os.path.basename(model.file))})</title>",
        f"<style>\n{CSS}\n</style>",
        "</head>",
        "<body>",
        f"<h1>{_h(title)}</h1>",
        f'<p class="meta">{_h(prop.description)}</p>',
        f'<p class="meta">spec: <code>{_h(model.file)}</code> ({_h(model.title)})</p>',
        f'<p class="meta">config: <code>{_h(config)}</code></p>',
        f'<p class="meta">platform: <code>{_h(platform)}</code></p>',
        "<h2>Timeline</h2>",
        "<p class=\"meta\">One lane per thread, time downwards; hover a step for its state changes. "
        "Grey steps do not affect the violation.</p>",
        _svg(model, outcome),
        *([f'<p class="msg">!! {_h(end)}</p>'] if end else []),
        *([f'<pre class="waits">{_h(chr(10).join(_waits_for(model, outcome)))}</pre>']
          if _waits_for(model, outcome) else []),
        "<h2>Steps</h2>",
        "<table>",
        "<thead><tr><th>step</th><th>thread</th><th>action</th><th>spec line</th><th>changes</th></tr></thead>",
        "<tbody>",
        *rows,
        "</tbody>",
        "</table>",
        "</body>",
        "</html>",
        "",
    ])


TRACE_RENDERERS = {"itf": itf, "mermaid": mermaid, "html": html, "markdown": markdown}


def render(fmt: str, model: Model, outcome: Outcome, full: bool = False) -> str:
    return TRACE_RENDERERS[fmt](model, outcome, full)
