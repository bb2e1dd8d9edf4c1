"""Parity checks for the PyTorch bundle (tests only: not in the zip; scripts/torchFixtures.ts writes the fixtures).

  torchParity.py [--onnx] FIXTURE_DIR…      load_model's output against tfjs' expected.bin, one JSON line per fixture:
                                       {name, count, maxAbsDiff, argmaxEqual, argmaxClasses, unusedWeights}; --onnx also
                                       writes FIXTURE_DIR/model.onnx with the bundle's export_onnx
  torchParity.py --compare-weights A B      every weight both model dirs name: bit-identical after load? (uint8 dequantization)
  torchParity.py --train-steps BUNDLE INPUTS LABELS BATCH OUT
                                       BATCH-sized steps over INPUTS ([N, H, W, C] float32) / LABELS (JSON class indices) with
                                       the bundle's recipe (plan, BN modes, optimizer, rate, multipliers) as train.py does them;
                                       writes the weights in TensorFlow layout to OUT as JSON {name: [values]}
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


def train_steps(bundle, inputs_path, labels_path, batch, out):
    from transfer_studio_torch import apply_freeze_plan, param_groups, with_still_layers
    from transfer_studio_torch.recipe import load_recipe
    from transfer_studio_torch.training import crossentropy, make_optimizer

    recipe = load_recipe(os.path.join(bundle, "recipe.json"))
    config = recipe["config"]
    model = load_model(bundle)
    apply_freeze_plan(model, with_still_layers(recipe["freezePlan"], config.get("rateMultipliers")), recipe["batchNormOverrides"])
    optimizer = make_optimizer(config, param_groups(model, float(config["learningRate"]), config.get("rateMultipliers")))
    shape = recipe["inputShape"]
    with open(labels_path, encoding="utf-8") as handle:
        labels = torch.tensor(json.load(handle))
    xs = torch.from_numpy(np.fromfile(inputs_path, dtype="<f4").reshape(len(labels), shape["height"], shape["width"], shape["channels"])).permute(0, 3, 1, 2)
    for start in range(0, len(labels), batch):
        model.train_mode()
        optimizer.zero_grad()
        crossentropy(model(xs[start : start + batch]), labels[start : start + batch]).backward()
        optimizer.step()
    with open(out, "w", encoding="utf-8") as handle:
        json.dump({name: values.reshape(-1).tolist() for name, values in model.tf_weights().items()}, handle)


if __name__ == "__main__":
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    args = sys.argv[1:]
    if args[:1] == ["--compare-weights"]:
        print(json.dumps(compare_weights(args[1], args[2])))
        sys.exit(0)
    if args[:1] == ["--train-steps"]:
        train_steps(args[1], args[2], args[3], int(args[4]), args[5])
        sys.exit(0)
    onnx = args[:1] == ["--onnx"]
    for path in args[1:] if onnx else args:
        print(json.dumps(check(path, onnx)), flush=True)
