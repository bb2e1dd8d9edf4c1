"""What train.py writes: out/ in the studio's export format (model.json, weights.bin, metadata.json), probabilities, ONNX."""
import datetime
import hashlib
import inspect
import json
import os
import warnings

import numpy as np
import torch

from .images import IMAGE_EXTENSIONS, decode_image, to_model_input
from .errors import DataFilesError

HEAD_LAYER_NAMES = ("head_pool", "head_flatten", "head_hidden", "head_dropout", "head_dense")
"""The studio's head layers (core/headSpec.ts): always trained, not part of the pretrained plan in metadata.json."""


def _pretrained(plan):
    return {name: frozen for name, frozen in plan.items() if name not in HEAD_LAYER_NAMES}


def head_layers(model_json):
    """The head's layers as metadata.json lists them: name, class and the settings that shape them."""
    topology = model_json["modelTopology"]
    config = topology.get("model_config", topology)
    out = []
    for layer in config["config"]["layers"]:
        if layer.get("name") in HEAD_LAYER_NAMES:
            entry = {"name": layer["name"], "className": layer["class_name"]}
            for key in ("units", "rate"):
                if key in layer["config"]:
                    entry[key] = layer["config"][key]
            if layer["class_name"] == "Dense" and "activation" in layer["config"]:
                entry["activation"] = layer["config"]["activation"]
            out.append(entry)
    return out


def identical_to_source(source_weights, trained_weights, model):
    """Pretrained layer with weights → every weight, BN statistics included, holds the bits of the bundle's model (measured here)."""
    out = {}
    for name, layer in model.leaf_layers().items():
        if name in HEAD_LAYER_NAMES or not layer.has_weights:
            continue
        keys = [model.weight_key(name, suffix) for suffix in layer.tf_weights()]
        out[name] = all(np.array_equal(source_weights[k], trained_weights[k]) for k in keys)
    return out


def write_run(out_dir, model, run, recipe, datasets, source_weights, processes, dataset_name="PyTorch data folder"):
    """Writes out_dir/model.json + weights.bin (tfjs Layers, original names, frozen layers trainable: false) and metadata.json."""
    plan_at_end = dict(run.plan)
    topology = model.topology_with_flags(plan_at_end)
    weights = model.tf_weights()
    shape = recipe["inputShape"]
    preprocessing = {**recipe["preprocessing"], "inputSize": [shape["height"], shape["width"]], "channels": shape["channels"]}
    user_metadata = {
        "preprocessing": preprocessing,
        "classLabels": list(recipe["classNames"]),
        "trainedOn": f"fine-tuned with PyTorch {torch.__version__} from the Transfer Studio recipe of '{recipe['model'].get('name')}'",
        "sourceModel": {"name": recipe["model"].get("name"), "sourceHash": recipe["model"].get("sourceHash")},
    }
    from .tfjs_files import write_model

    write_model(out_dir, model.model_json, topology, weights, user_metadata)
    held = run.history[run.best_epoch] if run.history else None  # the epoch whose weights the run ends with
    config = dict(recipe["config"], epochs=run.epochs)
    metadata = {
        "format": "transfer-studio-export",
        "formatVersion": 2,
        "studio": recipe.get("studio"),
        "exportedAt": datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z"),
        "classNames": list(recipe["classNames"]),
        "labels": list(recipe["classNames"]),
        "preprocessing": preprocessing,
        "sourceModel": {"name": recipe["model"].get("name"), "label": recipe["model"].get("label"),
                        "sourceHash": recipe["model"].get("sourceHash"), "provenance": None},
        "cutLayer": recipe.get("cut"),
        "head": {"config": recipe.get("head"), "layers": head_layers(model.model_json)},
        "freezePlan": _pretrained(run.start_plan),
        "planChanges": run.plan_changes,
        "freezePlanAtEnd": _pretrained(plan_at_end),
        "batchNormModes": dict(recipe.get("batchNormOverrides") or {}),
        "identicalToSource": identical_to_source(source_weights, weights, model),
        "training": {
            "config": config,
            "backend": f"pytorch-{run.procs.device.type}",
            "dataset": {"name": dataset_name, "images": sum(len(d) for d in datasets.values()),
                        "validationFraction": recipe["split"].get("validationFraction"), "splitSeed": recipe["split"].get("seed")},
        },
        "metrics": {
            "outcome": {"stopped": False, "epochsCompleted": len(run.history), "batches": run.step,
                        "validationLoss": held["validationLoss"] if held else None, "validationAccuracy": held["validationAccuracy"] if held else None},
            "finalEpoch": run.history[-1] if run.history else None,
            "test": run.test,
        },
        "epochs": run.history,
        "trainedWith": {
            "framework": "pytorch",
            "torch": torch.__version__,
            "processes": processes,
            "recipe": {"studio": recipe.get("studio"), "exportedAt": recipe.get("exportedAt"), "sourceHash": recipe["model"].get("sourceHash")},
        },
    }
    with open(os.path.join(out_dir, "metadata.json"), "w", encoding="utf-8") as handle:
        json.dump(metadata, handle, indent=2)
        handle.write("\n")
    return metadata


def weight_digest(model):
    """SHA-256 of every parameter and buffer's bytes, by name (to compare processes and runs bit for bit)."""
    return {name: hashlib.sha256(tensor.detach().cpu().contiguous().numpy().tobytes()).hexdigest()
            for name, tensor in list(model.state_dict().items())}


def image_paths(targets):
    """The image files named by `targets` (files, or folders searched recursively), in order."""
    out = []
    for target in targets:
        if os.path.isdir(target):
            for root, dirs, files in os.walk(target):
                dirs.sort()
                out.extend(os.path.join(root, f) for f in sorted(files) if f.lower().endswith(IMAGE_EXTENSIONS))
        elif os.path.isfile(target):
            out.append(target)
        else:
            raise DataFilesError(f"'{target}' is neither an image file nor a folder; --predict takes image files or folders of them.")
    if not out:
        raise DataFilesError(f"No images found in {', '.join(repr(t) for t in targets)}.")
    return out


def predict(model, recipe, paths, batch_size=32):
    """{path: [probabilities in class order]} with the recipe's preprocessing, in eval mode."""
    model.eval()
    out = {}
    with torch.no_grad():
        for start in range(0, len(paths), batch_size):
            chunk = paths[start : start + batch_size]
            xs = torch.stack([to_model_input(decode_image(p, recipe["inputShape"], recipe["preprocessing"]["resize"]), recipe["preprocessing"]["range"]) for p in chunk])
            for path, row in zip(chunk, model(xs).tolist()):
                out[path] = row
    return out


def export_onnx(model, recipe, path):
    """torch.onnx.export with a dynamic batch: input 'input' [batch, C, H, W] float32 (preprocessed, NCHW), output 'probabilities'."""
    shape = recipe["inputShape"]
    model.eval()
    dummy = torch.zeros(1, shape["channels"], shape["height"], shape["width"])
    with warnings.catch_warnings():
        # Tracing notes that padding sizes are read from shapes (fixed here: only the batch is dynamic).
        warnings.simplefilter("ignore")
        options = {}
        if "dynamo" in inspect.signature(torch.onnx.export).parameters:
            options["dynamo"] = False  # PyTorch ≥ 2.9 defaults to the dynamo exporter, which needs the onnx packages
        torch.onnx.export(model, dummy, path, input_names=["input"], output_names=["probabilities"],
                          dynamic_axes={"input": {0: "batch"}, "probabilities": {0: "batch"}}, opset_version=13, **options)
