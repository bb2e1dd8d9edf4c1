"""The graph interpreter: a Keras/tfjs model config (functional or sequential, nested models included) → torch modules."""
import copy

from torch import nn

from .errors import ModelFilesError
from .layers import NESTED_MODEL_CLASSES, build_leaf
from .tfjs_files import read_model_json, read_weights


def module_key(name):
    """A layer name as a torch module name ('.' is not allowed there)."""
    return name.replace(".", "_dot_")


class WeightReader:
    """Finds a layer's weights in the manifest by their Keras names ('conv1/kernel', or 'outer/conv1/kernel'), and notes which were used."""

    def __init__(self, weights, source):
        self.weights = weights
        self.source = source
        self.used = set()

    def for_layer(self, layer_name):
        """A `weight(suffix)` function for one layer."""

        def weight(suffix):
            name = f"{layer_name}/{suffix}"
            if name not in self.weights:
                matches = [key for key in self.weights if key.endswith("/" + name)]
                if len(matches) != 1:
                    raise ModelFilesError(
                        f"{self.source}: layer '{layer_name}' needs the weight '{name}', which the weights manifest does not list; "
                        "the weight files do not belong to this model.json."
                    )
                name = matches[0]
            self.used.add(name)
            return self.weights[name]

        return weight


class GraphModel(nn.Module):
    """One Keras model (the top level or a nested one): its leaf layers in a ModuleDict, evaluated in graph order."""

    def __init__(self, entry, reader):
        super().__init__()
        config = entry["config"]
        self.class_name = entry["class_name"]
        self.layer_name = config.get("name", "model") if isinstance(config, dict) else "model"
        self.layers = nn.ModuleDict()
        if self.class_name == "Sequential":
            self._build_sequential(config, reader)
        else:
            self._build_functional(config, reader)

    def _add(self, layer, reader):
        name = layer.get("config", {}).get("name") or layer.get("name")
        class_name = layer["class_name"]
        if class_name in NESTED_MODEL_CLASSES:
            module = GraphModel(layer, reader)
        else:
            module = build_leaf(name, class_name, layer.get("config", {}), reader.for_layer(name))
        if module_key(name) in self.layers:
            raise ModelFilesError(f"Two layers of model '{self.layer_name}' are both named '{name}'; rename one and export again.")
        self.layers[module_key(name)] = module
        return name

    def _build_sequential(self, config, reader):
        layers = config["layers"] if isinstance(config, dict) else config
        self.order = [self._add(layer, reader) for layer in layers if layer["class_name"] != "InputLayer"]

    def _build_functional(self, config, reader):
        self.order = []
        self.inbound = {}
        for layer in config["layers"]:
            name = self._add(layer, reader)
            self.order.append(name)
            self.inbound[name] = layer.get("inbound_nodes") or []
        self.input_refs = [tuple(ref[:3]) for ref in config["input_layers"]]
        self.output_refs = [tuple(ref[:3]) for ref in config["output_layers"]]

    def _resolve(self, values, ref):
        name, node, tensor = ref[0], int(ref[1]), int(ref[2])
        nodes = values.get(name)
        if not nodes:
            raise KeyError(name)
        if len(nodes) == 1:
            position = 0
        else:
            # tfjs counts a nested model's own construction node: its calls in this graph are nodes 1, 2, ….
            position = node - 1 if isinstance(self.layers[module_key(name)], GraphModel) else node
        return nodes[min(max(position, 0), len(nodes) - 1)][tensor]

    def forward(self, *inputs):
        if self.class_name == "Sequential":
            x = inputs[0]
            for name in self.order:
                x = self.layers[module_key(name)](x)
            return x
        values = {}
        for ref, tensor in zip(self.input_refs, inputs):
            values[ref[0]] = [[tensor]]
        pending = [name for name in self.order if name not in values]
        while pending:
            progressed = False
            for name in list(pending):
                try:
                    calls = [[self._resolve(values, ref) for ref in node] for node in self.inbound[name]]
                except KeyError:
                    continue
                module = self.layers[module_key(name)]
                outputs = []
                for args in calls:
                    result = module(*args) if isinstance(module, GraphModel) else module(args if len(args) > 1 else args[0])
                    outputs.append(list(result) if isinstance(result, (tuple, list)) else [result])
                values[name] = outputs
                pending.remove(name)
                progressed = True
            if not progressed:
                raise ModelFilesError(f"Model '{self.layer_name}': layers {pending[:5]} never get their inputs; the graph in model.json is broken.")
        outputs = [self._resolve(values, ref) for ref in self.output_refs]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)


class TfjsModel(nn.Module):
    """
    A tfjs Layers model as a torch module. Input: NCHW float32, already preprocessed (the recipe's range
    applied); output: the model's output in TensorFlow's layout (softmax probabilities [N, classes] for a
    studio model). Rank-4 tensors are NCHW inside.
    """

    def __init__(self, model_json, topology_config, weights, source="model.json"):
        super().__init__()
        self.model_json = model_json
        self.topology_config = topology_config
        reader = WeightReader(weights, source)
        self.graph = GraphModel(topology_config, reader)
        self.unused_weights = sorted(set(weights) - reader.used)
        self.frozen_layers = set()
        self.training_mode_layers = set()

    def forward(self, x):
        y = self.graph(x)
        return y.permute(0, 2, 3, 1) if y.dim() == 4 else y

    def leaf_layers(self):
        """Leaf layer name → module, nested models opened, in file order."""
        out = {}

        def walk(graph):
            for name in graph.order:
                module = graph.layers[module_key(name)]
                if isinstance(module, GraphModel):
                    walk(module)
                else:
                    out[name] = module

        walk(self.graph)
        return out

    def train_mode(self):
        """Training mode for the layers apply_freeze_plan marked as training (trainable ones, 'train-stats' BN); eval for the rest."""
        self.train()
        for name, layer in self.leaf_layers().items():
            layer.train(name in self.training_mode_layers)
        return self

    def weight_key(self, layer_name, suffix):
        """The manifest name of a layer's weight: 'layer/suffix', or the one manifest name ending in '/layer/suffix'."""
        names = self._manifest_names()
        key = f"{layer_name}/{suffix}"
        if key in names:
            return key
        return next((n for n in names if n.endswith("/" + key)), key)

    def _manifest_names(self):
        return {spec["name"] for group in self.model_json.get("weightsManifest") or [] for spec in group.get("weights") or []}

    def tf_weights(self):
        """Every weight by its manifest name, in TensorFlow layout (what weights.bin holds)."""
        out = {}
        for name, layer in self.leaf_layers().items():
            for suffix, values in layer.tf_weights().items():
                out[self.weight_key(name, suffix)] = values
        return out

    def topology_with_flags(self, freeze_plan):
        """A copy of model.json's modelTopology with each leaf layer's `trainable` set from `freeze_plan` (frozen → false)."""
        topology = copy.deepcopy(self.model_json["modelTopology"])
        config = topology.get("model_config", topology)

        def walk(entry):
            layers = entry["config"]["layers"] if isinstance(entry["config"], dict) else entry["config"]
            for layer in layers:
                if layer["class_name"] in NESTED_MODEL_CLASSES:
                    walk(layer)
                    continue
                name = layer.get("config", {}).get("name") or layer.get("name")
                if name in freeze_plan and layer["class_name"] != "InputLayer":
                    layer.setdefault("config", {})["trainable"] = not freeze_plan[name]

        walk(config)
        return topology


def load_model(model_dir):
    """
    Reads `model_dir/model.json` and its weight files (tfjs Layers; float32, int32, or uint8/uint16/float16
    quantized, dequantized as tfjs does) and returns a TfjsModel: NCHW float32 input (preprocessed), output in
    TensorFlow layout. Raises ModelFilesError (missing/empty weights, files that do not match) or
    UnsupportedLayerError (a layer class it cannot reproduce, named with its layer).
    """
    model_json, config = read_model_json(model_dir)
    weights = read_weights(model_dir, model_json)
    return TfjsModel(model_json, config, weights, source=f"'{model_dir}/model.json'")


def check_layers(model_dir):
    """The unsupported layers of a model.json, as (layer name, class) pairs, without reading weights."""
    from .layers import SUPPORTED_LAYER_CLASSES

    _, config = read_model_json(model_dir)
    found = []

    def walk(entry):
        layers = entry["config"]["layers"] if isinstance(entry["config"], dict) else entry["config"]
        for layer in layers:
            if layer["class_name"] in NESTED_MODEL_CLASSES:
                walk(layer)
            elif layer["class_name"] not in SUPPORTED_LAYER_CLASSES:
                found.append((layer.get("config", {}).get("name") or layer.get("name"), layer["class_name"]))

    walk(config)
    return found

