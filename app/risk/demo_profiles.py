"""The demo risk profiles: realistic targeting rules over the generated traffic.

The profiles are data: ``data/demo_profiles.json`` beside this module (packaged with it). A
condition value ``{"risky_importers": [start, end]}`` is filled in with that slice of the
ranked risky importers the demo loader passes.
"""

import json
from pathlib import Path

_FILE = Path(__file__).parent / "data" / "demo_profiles.json"


def _fill(node, risky_importers):
    if isinstance(node, dict):
        if set(node) == {"risky_importers"}:
            start, end = node["risky_importers"]
            return list(risky_importers[start:end])
        return {key: _fill(value, risky_importers) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(value, risky_importers) for value in node]
    return node


def demo_profiles(risky_importers):
    """(name, risk area, channel, tree, instructions, sensitive, status)."""
    with _FILE.open(encoding="utf-8") as fh:
        profiles = json.load(fh)["profiles"]
    return [
        (
            p["name"],
            p["risk_area"],
            p["channel"],
            _fill(p["conditions"], risky_importers),
            p["instructions"],
            p["sensitive"],
            p["status"],
        )
        for p in profiles
    ]
