"""The layer table: Keras class name → module, and the list of supported classes (pytorch/supported-layers.json holds the same)."""
from .base import ACTIVATIONS  # noqa: F401 (the activation names, for supported-layers.json)
from .errors import UnsupportedLayerError
from .simple_layers import (
    Activation, Add, Average, AveragePooling2D, Concatenate, Dropout, Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D, InputLayer,
    LeakyReLU, Maximum, MaxPooling2D, Minimum, Multiply, ReLU, Rescaling, Reshape, Softmax, ZeroPadding2D,
)
from .weighted_layers import BatchNormalization, Conv2D, Dense, DepthwiseConv2D, SeparableConv2D

WEIGHTED = {"Conv2D": Conv2D, "DepthwiseConv2D": DepthwiseConv2D, "SeparableConv2D": SeparableConv2D, "Dense": Dense, "BatchNormalization": BatchNormalization}
"""Layer classes that hold weights: built with a `weight(suffix)` reader."""

PLAIN = {
    cls.__name__: cls
    for cls in (
        InputLayer, Activation, ReLU, LeakyReLU, Softmax, ZeroPadding2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D,
        GlobalMaxPooling2D, Add, Multiply, Average, Maximum, Minimum, Concatenate, Flatten, Reshape, Dropout, Rescaling,
    )
}
"""Layer classes without weights."""

NESTED_MODEL_CLASSES = ("Model", "Functional", "Sequential")
"""Container classes: a nested model used as one layer."""

ALIASES = {"MaxPool2D": "MaxPooling2D", "AvgPool2D": "AveragePooling2D", "GlobalAvgPool2D": "GlobalAveragePooling2D", "GlobalMaxPool2D": "GlobalMaxPooling2D"}
"""Keras' alternative class names."""

SUPPORTED_LAYER_CLASSES = sorted(set(WEIGHTED) | set(PLAIN) | set(NESTED_MODEL_CLASSES) | set(ALIASES))
"""Every class name the interpreter builds (pytorch/supported-layers.json holds the same list for the studio)."""


def build_leaf(name, class_name, config, weight):
    """The module for one leaf layer; an unknown class is an UnsupportedLayerError naming the layer."""
    class_name = ALIASES.get(class_name, class_name)
    if class_name in WEIGHTED:
        return WEIGHTED[class_name](name, class_name, config, weight)
    if class_name in PLAIN:
        return PLAIN[class_name](name, class_name, config)
    raise UnsupportedLayerError(
        f"Layer '{name}' is a {class_name}, a layer class the PyTorch bundle does not reproduce. "
        f"Supported: {', '.join(c for c in SUPPORTED_LAYER_CLASSES if c not in ALIASES)}. Cut the model before it, or replace the layer."
    )
