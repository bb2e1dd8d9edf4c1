"""What every layer module shares: the TfLayer base, Keras activations, TensorFlow's 'same' padding and axes.

Tensor layout inside the interpreter: rank-4 activations are NCHW (PyTorch's), every other rank keeps
TensorFlow's layout. Each module that holds weights names its parameters and buffers by the Keras weight
names (kernel, bias, depthwise_kernel, pointwise_kernel, gamma, beta, moving_mean, moving_variance), stores
them in PyTorch's layout, and converts back with `tf_weights()`.
"""
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .errors import UnsupportedLayerError


def pair(value):
    """An int or a pair as (rows, cols)."""
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def same_padding(size, kernel, stride, dilation=1):
    """TensorFlow's 'same' padding along one axis: (before, after); the odd pixel goes after (bottom/right)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def pad_same(x, kernel, stride, dilation, value=0.0):
    """Pads an NCHW tensor as TensorFlow's 'same' does for this kernel, stride and dilation (value: −∞ for max pooling)."""
    top, bottom = same_padding(int(x.shape[2]), kernel[0], stride[0], dilation[0])
    left, right = same_padding(int(x.shape[3]), kernel[1], stride[1], dilation[1])
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom), value=value)


def channel_dim(x):
    """The channel dim of an interpreter tensor: 1 for NCHW (rank 4), the last otherwise."""
    return 1 if x.dim() == 4 else x.dim() - 1


def tf_axis_to_dim(axis, rank):
    """A TensorFlow axis (NHWC for rank 4) as the dim of the interpreter's tensor (NCHW for rank 4)."""
    axis = axis % rank
    return {0: 0, 1: 2, 2: 3, 3: 1}[axis] if rank == 4 else axis


def softmax_channels(x):
    """Softmax over the channels (Keras' last axis)."""
    return torch.softmax(x, dim=channel_dim(x))


ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": F.relu,
    "relu6": lambda x: torch.clamp(x, 0.0, 6.0),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softmax": softmax_channels,
    "swish": lambda x: x * torch.sigmoid(x),
    "elu": F.elu,
    "selu": F.selu,
    "softplus": F.softplus,
    "softsign": lambda x: x / (1 + torch.abs(x)),
    "hard_sigmoid": lambda x: torch.clamp(0.2 * x + 0.5, 0.0, 1.0),
    "mish": lambda x: x * torch.tanh(F.softplus(x)),
}
"""Keras activation names → functions (softmax over the channel axis, which is dim 1 of an NCHW tensor)."""


def activation(name, layer_name):
    """The function for Keras activation `name`; an unknown one is an UnsupportedLayerError naming the layer."""
    key = "linear" if name in (None, "") else str(name)
    # tfjs writes camelCase names for some ('hardSigmoid'); Keras writes snake_case.
    key = {"hardSigmoid": "hard_sigmoid"}.get(key, key)
    if key not in ACTIVATIONS:
        raise UnsupportedLayerError(f"Layer '{layer_name}' uses activation '{name}', which the PyTorch bundle does not reproduce; supported: {', '.join(sorted(ACTIVATIONS))}.")
    return ACTIVATIONS[key]


def check_channels_last(name, config):
    """Refuses data_format channels_first (tfjs models are channels_last)."""
    if config.get("data_format", "channels_last") not in (None, "channels_last"):
        raise UnsupportedLayerError(f"Layer '{name}' uses data_format '{config.get('data_format')}'; only channels_last (the tfjs default) is supported.")


class TfLayer(nn.Module):
    """A leaf layer: its Keras name, class and config, and whether the file marks it trainable."""

    has_weights = False

    def __init__(self, name, class_name, config):
        super().__init__()
        self.layer_name = name
        self.class_name = class_name
        self.config = config
        self.tf_trainable = config.get("trainable", True) is not False

    def tf_weights(self):
        """Keras weight suffix → numpy array in TensorFlow layout."""
        return {}

    def extra_repr(self):
        return f"{self.class_name} '{self.layer_name}'"


def to_param(array):
    """A float32 numpy array as a torch Parameter."""
    return nn.Parameter(torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)))


def to_numpy(tensor):
    """A tensor as a float32 numpy array (detached, on the CPU)."""
    return tensor.detach().cpu().numpy().astype(np.float32)
