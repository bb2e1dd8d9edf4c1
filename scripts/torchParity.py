"""Parity checks for the PyTorch bundle (tests only: not in the zip; scripts/torchFixtures.ts writes the fixtures).

  torchParity.py [--onnx] FIXTURE_DIR…      load_model's output against tfjs' expected.bin, one JSON line per fixture:
                                       {name, count, maxAbsDiff, argmaxEqual, argmaxClasses, unusedWeights}; --onnx also
                                       writes FIXTURE_DIR/model.onnx with the bundle's export_onnx
  torchParity.py --compare-weights A B      every weight both model dirs name: bit-identical after load? (uint8 dequantization)
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pytorch"))
from transfer_studio_torch import load_model  # noqa: E402
from transfer_studio_torch.outputs import export_onnx  # noqa: E402
from transfer_studio_torch.tfjs_files import read_model_json, read_weights  # noqa: E402


def check(directory, onnx=False):
    with open(os.path.join(directory, "fixture.json"), encoding="utf-8") as handle:
        fixture = json.load(handle)
    height, width, channels = fixture["inputShape"]
    inputs = np.fromfile(os.path.join(directory, "inputs.bin"), dtype="<f4").reshape(fixture["count"], height, width, channels)
    expected = np.fromfile(os.path.join(directory, "expected.bin"), dtype="<f4").reshape(fixture["count"], -1)
    model = load_model(directory).eval()
    with torch.no_grad():
        actual = model(torch.from_numpy(inputs).permute(0, 3, 1, 2).contiguous()).numpy()
    if onnx:
        recipe = {"inputShape": {"height": height, "width": width, "channels": channels}}
        export_onnx(model, recipe, os.path.join(directory, "model.onnx"))
    return {
        "name": fixture["name"],
        "argmaxClasses": sorted(set(int(c) for c in expected.argmax(axis=1))),
        "count": int(fixture["count"]),
        "maxAbsDiff": float(np.max(np.abs(actual - expected))),
        "argmaxEqual": bool(np.array_equal(actual.argmax(axis=1), expected.argmax(axis=1))),
        "unusedWeights": model.unused_weights,
    }


def compare_weights(first, second):
    a = read_weights(first, read_model_json(first)[0])
    b = read_weights(second, read_model_json(second)[0])
    common = sorted(set(a) & set(b))
    differ = [name for name in common if not np.array_equal(a[name], b[name])]
    return {"common": len(common), "differ": differ}


if __name__ == "__main__":
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    args = sys.argv[1:]
    if args[:1] == ["--compare-weights"]:
        print(json.dumps(compare_weights(args[1], args[2])))
        sys.exit(0)
    onnx = args[:1] == ["--onnx"]
    for path in args[1:] if onnx else args:
        print(json.dumps(check(path, onnx)), flush=True)
