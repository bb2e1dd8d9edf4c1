"""Parity check (tests only, not in the bundle): for each fixture dir given, load_model's output against tfjs' expected.bin.

Prints one JSON line per fixture: {name, maxAbsDiff, argmaxEqual, count}. Exit 0 unless a fixture cannot be read.
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from transfer_studio_torch import load_model  # noqa: E402


def check(directory):
    with open(os.path.join(directory, "fixture.json"), encoding="utf-8") as handle:
        fixture = json.load(handle)
    height, width, channels = fixture["inputShape"]
    inputs = np.fromfile(os.path.join(directory, "inputs.bin"), dtype="<f4").reshape(fixture["count"], height, width, channels)
    expected = np.fromfile(os.path.join(directory, "expected.bin"), dtype="<f4").reshape(fixture["count"], -1)
    model = load_model(directory).eval()
    with torch.no_grad():
        actual = model(torch.from_numpy(inputs).permute(0, 3, 1, 2).contiguous()).numpy()
    return {
        "name": fixture["name"],
        "count": int(fixture["count"]),
        "maxAbsDiff": float(np.max(np.abs(actual - expected))),
        "argmaxEqual": bool(np.array_equal(actual.argmax(axis=1), expected.argmax(axis=1))),
        "unusedWeights": model.unused_weights,
    }


if __name__ == "__main__":
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    for path in sys.argv[1:]:
        print(json.dumps(check(path)), flush=True)
