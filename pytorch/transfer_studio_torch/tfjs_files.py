"""tfjs Layers files in and out: model.json, its weights manifest and weight files (float32, int32, or quantized)."""
import json
import os

import numpy as np

from .errors import ModelFilesError

_QUANTIZED = {"uint8": np.uint8, "uint16": np.uint16, "float16": np.float16}
_PLAIN = {"float32": np.float32, "int32": np.int32}


def read_model_json(model_dir):
    """Reads `model_dir/model.json`; returns (the whole JSON, the Keras model config {class_name, config})."""
    path = os.path.join(model_dir, "model.json")
    if not os.path.isfile(path):
        raise ModelFilesError(f"'{path}' is missing: the bundle's model is model.json + weights.bin beside train.py.")
    try:
        with open(path, encoding="utf-8") as handle:
            model_json = json.load(handle)
    except (OSError, ValueError) as error:
        raise ModelFilesError(f"'{path}' is not valid JSON ({error}); export the PyTorch project from the studio again.") from error
    topology = model_json.get("modelTopology") if isinstance(model_json, dict) else None
    if not isinstance(topology, dict):
        raise ModelFilesError(f"'{path}' has no modelTopology: it is not a tfjs Layers model (a graph model cannot be trained).")
    config = topology.get("model_config", topology)
    if not isinstance(config, dict) or "class_name" not in config or "config" not in config:
        raise ModelFilesError(f"'{path}': modelTopology holds no Keras model config (class_name + config).")
    return model_json, config


def _dequantize(raw, spec, path):
    quantization = spec.get("quantization")
    dtype = spec.get("dtype", "float32")
    if quantization:
        qtype = quantization.get("dtype")
        if qtype not in _QUANTIZED:
            raise ModelFilesError(f"'{path}': weight '{spec['name']}' is quantized as '{qtype}'; only uint8, uint16 and float16 are known.")
        values = np.frombuffer(raw, dtype=_QUANTIZED[qtype])
        if qtype == "float16":
            return values.astype(np.float32)
        # As tfjs does on load: min + v * scale, computed in doubles and stored as float32.
        return (values.astype(np.float64) * float(quantization["scale"]) + float(quantization["min"])).astype(np.float32)
    if dtype not in _PLAIN:
        raise ModelFilesError(f"'{path}': weight '{spec['name']}' has dtype '{dtype}'; only float32 and int32 weights are read.")
    return np.frombuffer(raw, dtype=_PLAIN[dtype]).copy()


def _byte_size(spec):
    count = int(np.prod(spec["shape"])) if spec["shape"] else 1
    quantization = spec.get("quantization")
    if quantization:
        return count * np.dtype(_QUANTIZED.get(quantization.get("dtype"), np.uint8)).itemsize
    return count * 4


def read_weights(model_dir, model_json):
    """Every weight of the manifest, by name, as numpy arrays in TensorFlow layout (float32 unless int32)."""
    manifest = model_json.get("weightsManifest")
    where = os.path.join(model_dir, "model.json")
    if not isinstance(manifest, list) or not manifest:
        raise ModelFilesError(f"'{where}' has no weightsManifest: the model comes without weights. Export it from the studio with its weights.bin.")
    weights = {}
    for group in manifest:
        paths = group.get("paths") or []
        specs = group.get("weights") or []
        data = bytearray()
        for name in paths:
            path = os.path.join(model_dir, name)
            if not os.path.isfile(path):
                raise ModelFilesError(f"The weight file '{path}' that model.json names is missing; put it beside model.json.")
            with open(path, "rb") as handle:
                data.extend(handle.read())
        needed = sum(_byte_size(spec) for spec in specs)
        if len(data) != needed:
            raise ModelFilesError(
                f"The weight files {', '.join(repr(p) for p in paths)} hold {len(data)} bytes but model.json's manifest needs {needed}; "
                "the files do not belong together. Export the project again."
            )
        offset = 0
        for spec in specs:
            size = _byte_size(spec)
            values = _dequantize(bytes(data[offset : offset + size]), spec, where)
            weights[spec["name"]] = values.reshape(spec["shape"])
            offset += size
    return weights


def weight_specs(model_json):
    """The manifest's weight entries in file order (what the written weights.bin follows)."""
    return [spec for group in model_json.get("weightsManifest") or [] for spec in group.get("weights") or []]


def write_model(out_dir, model_json, topology, weights, user_metadata=None):
    """Writes out_dir/model.json (topology + one float32 group naming weights.bin, in the source manifest's order) and weights.bin."""
    os.makedirs(out_dir, exist_ok=True)
    specs = []
    chunks = []
    for spec in weight_specs(model_json):
        values = weights[spec["name"]]
        dtype = "int32" if values.dtype == np.int32 else "float32"
        array = np.ascontiguousarray(values, dtype=np.int32 if dtype == "int32" else np.float32)
        specs.append({"name": spec["name"], "shape": list(array.shape), "dtype": dtype})
        chunks.append(array.astype("<i4" if dtype == "int32" else "<f4").tobytes())
    out = {
        "format": model_json.get("format", "layers-model"),
        "generatedBy": model_json.get("generatedBy", "transfer_studio_torch"),
        "convertedBy": "transfer_studio_torch (PyTorch)",
        "modelTopology": topology,
        "weightsManifest": [{"paths": ["weights.bin"], "weights": specs}],
    }
    if user_metadata is not None:
        out["userDefinedMetadata"] = user_metadata
    with open(os.path.join(out_dir, "weights.bin"), "wb") as handle:
        handle.write(b"".join(chunks))
    with open(os.path.join(out_dir, "model.json"), "w", encoding="utf-8") as handle:
        json.dump(out, handle)
