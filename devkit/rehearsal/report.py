"""A rehearsal's report: ``timeline.json`` and a self-contained ``index.html``, charts over simulated time."""

import html
import itertools
import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devkit.rehearsal.plan import RehearsalOptions, Result

WIDTH, HEIGHT, PAD = 760, 170, 36
COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea"]


def write_report(result: "Result", options: "RehearsalOptions") -> Path:
    """Write the report folder; return it."""
    folder = options.reports / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder.mkdir(parents=True, exist_ok=True)
    timeline = {
        "verdict": result.verdict,
        "exit_code": result.exit_code,
        "environment": options.environment,
        "speed": options.speed,
        "faults": options.faults,
        "labels": dict(options.labels),
        "started": result.started,
        "ended": result.ended,
        "plan": result.plan,
        "outcomes": [asdict(o) for o in result.outcomes],
        "events": [asdict(e) for e in result.events],
        "samples": result.samples,
        "alarm_changes": result.alarm_changes,
        "candidate_requests": result.candidate_requests,
        "canary_requests": result.canary_requests,
        "answers": result.answers,
        "hook_problems": result.hook_problems,
    }
    (folder / "timeline.json").write_text(json.dumps(timeline, indent=1, default=str))
    (folder / "index.html").write_text(_page(timeline))
    return folder


def _minutes(at: float, started: float) -> float:
    return (at - started) / 60


def _point(t: float, v: float, span: float, top: float) -> str:
    x = PAD + (WIDTH - PAD - 10) * t / max(span, 1e-9)
    y = HEIGHT - PAD - (HEIGHT - PAD - 20) * v / top
    return f"{x:.1f},{y:.1f}"


def _steps(points: list[tuple[float, float]], span: float) -> list[tuple[float, float]]:
    """A value that holds until the next change (traffic weights), to the end of the chart."""
    held: list[tuple[float, float]] = []
    for (at, value), (until, _) in itertools.pairwise([*points, (span, 0.0)]):
        held += [(at, value), (until, value)]
    return held


def _chart(
    title: str, series: dict[str, list[tuple[float, float]]], span: float, unit: str = "", floor: float = 1.0
) -> str:
    top = max([v for points in series.values() for _, v in points] + [floor])
    axis = HEIGHT - PAD
    parts = [f'<h3>{html.escape(title)}</h3><svg width="{WIDTH}" height="{HEIGHT}" role="img">']
    parts.append(f'<line x1="{PAD}" y1="{axis}" x2="{WIDTH}" y2="{axis}" stroke="#999"/>')
    parts.append(f'<text x="2" y="14" font-size="11">{top:.3g}{unit}</text>')
    parts.append(f'<text x="{PAD}" y="{HEIGHT - 18}" font-size="11">0</text>')
    parts.append(f'<text x="{WIDTH - 70}" y="{HEIGHT - 18}" font-size="11">{span:.1f} min</text>')
    for index, (name, points) in enumerate(sorted(series.items())):
        colour = COLOURS[index % len(COLOURS)]
        coords = " ".join(_point(t, v, span, top) for t, v in points)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}"/>')
        x, label = PAD + 10 + index * 190, html.escape(name)
        parts.append(f'<text x="{x}" y="{HEIGHT - 4}" font-size="11" fill="{colour}">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _alarm_bands(timeline: dict[str, Any], span: float) -> str:
    started = timeline["started"]
    rows: dict[str, list[tuple[float, str]]] = {}
    for change in timeline["alarm_changes"]:
        rows.setdefault(change["alarm"], []).append((_minutes(change["at"], started), change["to"]))
    colour = {"OK": "#bbf7d0", "ALARM": "#fca5a5", "INSUFFICIENT_DATA": "#e5e7eb"}
    height = 16 * max(len(rows), 1) + 10
    parts = [f'<h3>Alarm states</h3><svg width="{WIDTH}" height="{height}">']
    scale = (WIDTH - 260) / max(span, 1e-9)
    for row, (alarm, changes) in enumerate(sorted(rows.items())):
        y = 4 + row * 16
        short = alarm.split("-local-")[-1]  # the alarm's logical id
        parts.append(f'<text x="0" y="{y + 11}" font-size="10">{html.escape(short)}</text>')
        bounds = [*changes, (span, "")]
        for (at, state), (until, _) in itertools.pairwise(bounds):
            x = 250 + max(at, 0) * scale
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{max(1.0, (until - max(at, 0)) * scale):.1f}" height="12" '
                f'fill="{colour.get(state, "#fff")}"><title>{state} from {at:.1f} min</title></rect>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _page(timeline: dict[str, Any]) -> str:
    started = timeline["started"]
    span = _minutes(timeline["ended"], started)
    weights: dict[str, list[tuple[float, float]]] = {}
    requests: dict[str, list[tuple[float, float]]] = {}
    error_rate: dict[str, list[tuple[float, float]]] = {}
    p99: dict[str, list[tuple[float, float]]] = {}
    for event in timeline["events"]:
        if event["kind"] in {"TrafficShifted", "DeploymentRollback"}:
            weight = event["detail"].get("weight", 0.0) if event["kind"] == "TrafficShifted" else 0.0
            weights.setdefault(event["function"], []).append((_minutes(event["at"], started), 100 * weight))
    for sample in timeline["samples"]:
        at = _minutes(sample["at"], started)
        for function, versions in sample["functions"].items():
            for version, stats in versions.items():
                key = f"{function} v{version}"
                requests.setdefault(key, []).append((at, stats["requests"]))
                rate = 100 * stats["errors"] / stats["requests"] if stats["requests"] else 0.0
                error_rate.setdefault(key, []).append((at, rate))
                p99.setdefault(key, []).append((at, stats["p99"]))
    hooks = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(cell))}</td>"
            for cell in (
                f"{_minutes(e['at'], started):.1f}",
                e["function"],
                e["detail"].get("lifecycle_event"),
                e["detail"].get("status"),
            )
        )
        + "</tr>"
        for e in timeline["events"]
        if e["kind"] == "HookReport"
    )
    outcomes = "".join(
        f"<li>{html.escape(o['function'])}: {o['status']} {html.escape(o['reason'])}</li>"
        for o in timeline["outcomes"]
    )
    problems = "".join(
        f"<li>{html.escape(hook)}: {html.escape(problem)}</li>"
        for hook, found in timeline["hook_problems"].items()
        for problem in found
    )
    verdict = html.escape(timeline["verdict"])
    style = (
        "body{font-family:sans-serif;max-width:800px;margin:2em auto} table{border-collapse:collapse} "
        "td,th{padding:2px 8px;border-bottom:1px solid #ddd}"
    )
    faults = html.escape(timeline["faults"] or "none")
    environment = html.escape(timeline["environment"])
    header = "<tr><th>minute</th><th>function</th><th>event</th><th>status</th></tr>"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Rehearsal: {verdict}</title>
<style>{style}</style></head><body><h1>{verdict}</h1>
<p>Environment {environment}, time x{timeline["speed"]:g}, faults: {faults}.
All times are simulated minutes since the rehearsal started.</p><ul>{outcomes}</ul>
{f"<h2>What the hooks found</h2><ul>{problems}</ul>" if problems else ""}
{_chart("Traffic to the new version (%)", {k: _steps(v, span) for k, v in weights.items()}, span, "%", 100)}
{_chart("Requests per version (per minute)", requests, span)}
{_chart("Error rate per version (%)", error_rate, span, "%")}
{_chart("p99 duration per version (ms)", p99, span, " ms")}
{_alarm_bands(timeline, span)}
<h3>Hook reports</h3><table>{header}{hooks}</table>
<p>Everything is in <a href="timeline.json">timeline.json</a>.</p></body></html>"""
