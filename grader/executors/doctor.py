"""`dlgrade doctor --scheduler ...`: each worker's versions and sandbox layers, as probed there."""

from __future__ import annotations

from typing import Any

from grader.doctor import Diagnosis, Layer, render


def render_workers(reports: list[dict[str, Any]], console: Any) -> None:
    """One `dlgrade doctor` page per worker, then which workers would be refused."""
    weak = []
    for report in reports:
        console.rule(f"worker {report['address']}")
        layers = [Layer(name, bool(active), detail) for name, active, detail in report["layers"]]
        render(Diagnosis(versions=[tuple(v) for v in report["versions"]], layers=layers,
                         problems=list(report["problems"])), console)
        if not all(layer.active for layer in layers if layer.name.startswith("bwrap")):
            weak.append(report["address"])
    if weak:
        console.print(f"[yellow]{len(weak)} of {len(reports)} worker(s) without bwrap: "
                      f"{', '.join(weak)}; grade-batch refuses them unless --allow-weak-sandbox[/]")
    else:
        console.print(f"[green]all {len(reports)} worker(s) have every sandbox layer of bwrap[/]")
