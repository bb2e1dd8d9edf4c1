"""One torch module per Keras layer class, with TensorFlow's semantics (not PyTorch's defaults).

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


def _pair(value):
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def same_padding(size, kernel, stride, dilation=1):
    """TensorFlow's 'same' padding along one axis: (before, after); the odd pixel goes after (bottom/right)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _pad_same(x, kernel, stride, dilation, value=0.0):
    top, bottom = same_padding(int(x.shape[2]), kernel[0], stride[0], dilation[0])
    left, right = same_padding(int(x.shape[3]), kernel[1], stride[1], dilation[1])
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom), value=value)


def _channel_dim(x):
    return 1 if x.dim() == 4 else x.dim() - 1


def tf_axis_to_dim(axis, rank):
    """A TensorFlow axis (NHWC for rank 4) as the dim of the interpreter's tensor (NCHW for rank 4)."""
    axis = axis % rank
    return {0: 0, 1: 2, 2: 3, 3: 1}[axis] if rank == 4 else axis


def _softmax(x):
    return torch.softmax(x, dim=_channel_dim(x))


ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": F.relu,
    "relu6": lambda x: torch.clamp(x, 0.0, 6.0),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softmax": _softmax,
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


def _check_channels_last(name, config):
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


def _param(array):
    return nn.Parameter(torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)))


def _numpy(tensor):
    return tensor.detach().cpu().numpy().astype(np.float32)


class Conv2D(TfLayer):
    """Conv2D: HWIO kernel → OIHW weight; 'same' padded explicitly as TensorFlow pads (asymmetric)."""

    has_weights = True

    def __init__(self, name, class_name, config, weight):
        super().__init__(name, class_name, config)
        _check_channels_last(name, config)
        self.kernel_size = _pair(config["kernel_size"])
        self.strides = _pair(config.get("strides", 1))
        self.dilation = _pair(config.get("dilation_rate", 1))
        self.padding = config.get("padding", "valid")
        if self.padding not in ("same", "valid"):
            raise UnsupportedLayerError(f"Layer '{name}' ({class_name}) uses padding '{self.padding}'; only 'same' and 'valid' are supported.")
        self.act = activation(config.get("activation"), name)
        self.groups = int(config.get("groups", 1) or 1)
        self.kernel = _param(np.transpose(weight("kernel"), (3, 2, 0, 1)))
        self.bias = _param(weight("bias")) if config.get("use_bias", True) else None

    def forward(self, x):
        if self.padding == "same":
            x = _pad_same(x, self.kernel_size, self.strides, self.dilation)
        return self.act(F.conv2d(x, self.kernel, self.bias, self.strides, 0, self.dilation, self.groups))

    def tf_weights(self):
        out = {"kernel": np.transpose(_numpy(self.kernel), (2, 3, 1, 0))}
        if self.bias is not None:
            out["bias"] = _numpy(self.bias)
        return out


class DepthwiseConv2D(TfLayer):
    """DepthwiseConv2D: [kh, kw, in, multiplier] kernel → groups=in, weight [in·multiplier, 1, kh, kw]."""

    has_weights = True

    def __init__(self, name, class_name, config, weight, kernel_name="depthwise_kernel"):
        super().__init__(name, class_name, config)
        _check_channels_last(name, config)
        self.kernel_size = _pair(config["kernel_size"])
        self.strides = _pair(config.get("strides", 1))
        self.dilation = _pair(config.get("dilation_rate", 1))
        self.padding = config.get("padding", "valid")
        if self.padding not in ("same", "valid"):
            raise UnsupportedLayerError(f"Layer '{name}' ({class_name}) uses padding '{self.padding}'; only 'same' and 'valid' are supported.")
        kernel = weight(kernel_name)
        kh, kw, channels, multiplier = kernel.shape
        self.channels, self.multiplier = int(channels), int(multiplier)
        self.depthwise_kernel = _param(np.transpose(kernel, (2, 3, 0, 1)).reshape(channels * multiplier, 1, kh, kw))
        self.act = activation(config.get("activation"), name)
        self.bias = _param(weight("bias")) if config.get("use_bias", True) and class_name == "DepthwiseConv2D" else None

    def depthwise(self, x):
        """The depthwise convolution alone (padding included), without bias or activation."""
        if self.padding == "same":
            x = _pad_same(x, self.kernel_size, self.strides, self.dilation)
        return F.conv2d(x, self.depthwise_kernel, None, self.strides, 0, self.dilation, self.channels)

    def forward(self, x):
        y = self.depthwise(x)
        if self.bias is not None:
            y = y + self.bias.view(1, -1, 1, 1)
        return self.act(y)

    def _tf_depthwise(self):
        kh, kw = self.depthwise_kernel.shape[2:]
        return np.transpose(_numpy(self.depthwise_kernel).reshape(self.channels, self.multiplier, kh, kw), (2, 3, 0, 1))

    def tf_weights(self):
        out = {"depthwise_kernel": self._tf_depthwise()}
        if self.bias is not None:
            out["bias"] = _numpy(self.bias)
        return out


class SeparableConv2D(DepthwiseConv2D):
    """SeparableConv2D: the depthwise step (strides, padding, dilation), then a 1×1 pointwise conv, bias, activation."""

    def __init__(self, name, class_name, config, weight):
        super().__init__(name, class_name, config, weight)
        self.pointwise_kernel = _param(np.transpose(weight("pointwise_kernel"), (3, 2, 0, 1)))
        self.bias = _param(weight("bias")) if config.get("use_bias", True) else None

    def forward(self, x):
        return self.act(F.conv2d(self.depthwise(x), self.pointwise_kernel, self.bias))

    def tf_weights(self):
        out = {"depthwise_kernel": self._tf_depthwise(), "pointwise_kernel": np.transpose(_numpy(self.pointwise_kernel), (2, 3, 1, 0))}
        if self.bias is not None:
            out["bias"] = _numpy(self.bias)
        return out


class Dense(TfLayer):
    """Dense: [in, out] kernel → Linear weight [out, in]; applied to the last TensorFlow axis."""

    has_weights = True

    def __init__(self, name, class_name, config, weight):
        super().__init__(name, class_name, config)
        self.kernel = _param(np.transpose(weight("kernel")))
        self.bias = _param(weight("bias")) if config.get("use_bias", True) else None
        self.act = activation(config.get("activation"), name)

    def forward(self, x):
        if x.dim() == 4:
            return self.act(F.linear(x.permute(0, 2, 3, 1), self.kernel, self.bias)).permute(0, 3, 1, 2)
        return self.act(F.linear(x, self.kernel, self.bias))

    def tf_weights(self):
        out = {"kernel": np.transpose(_numpy(self.kernel))}
        if self.bias is not None:
            out["bias"] = _numpy(self.bias)
        return out


class BatchNormalization(TfLayer):
    """
    Keras BatchNormalization: epsilon and momentum from the file (PyTorch's momentum is 1 − Keras'), gamma
    absent with scale false, beta absent with center false. Training mode normalises with the batch's biased
    variance and moves the statistics as tfjs does: moving ← moving·momentum + batch·(1 − momentum).
    """

    has_weights = True

    def __init__(self, name, class_name, config, weight):
        super().__init__(name, class_name, config)
        axis = config.get("axis", -1)
        axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
        if axis not in (-1, 1, 3):
            raise UnsupportedLayerError(f"Layer '{name}' (BatchNormalization) normalises axis {axis}; only the channel axis (-1) is supported.")
        self.axis = axis
        self.epsilon = float(config.get("epsilon", 1e-3))
        self.momentum = float(config.get("momentum", 0.99))
        self.gamma = _param(weight("gamma")) if config.get("scale", True) else None
        self.beta = _param(weight("beta")) if config.get("center", True) else None
        self.register_buffer("moving_mean", torch.from_numpy(np.ascontiguousarray(weight("moving_mean"), dtype=np.float32)))
        self.register_buffer("moving_variance", torch.from_numpy(np.ascontiguousarray(weight("moving_variance"), dtype=np.float32)))

    @property
    def torch_momentum(self):
        """The momentum in PyTorch's convention (weight of the new batch): 1 − Keras' momentum."""
        return 1.0 - self.momentum

    def forward(self, x):
        if x.dim() not in (2, 4) and self.axis != -1:
            raise UnsupportedLayerError(f"Layer '{self.layer_name}' (BatchNormalization) got a rank-{x.dim()} tensor with axis {self.axis}.")
        dim = _channel_dim(x)
        shape = [1] * x.dim()
        shape[dim] = -1
        if self.training:
            reduce = [d for d in range(x.dim()) if d != dim]
            mean = x.mean(dim=reduce)
            variance = ((x - mean.view(shape)) ** 2).mean(dim=reduce)
            with torch.no_grad():
                keep = self.momentum
                self.moving_mean.mul_(keep).add_(mean.detach().to(self.moving_mean.dtype), alpha=1 - keep)
                self.moving_variance.mul_(keep).add_(variance.detach().to(self.moving_variance.dtype), alpha=1 - keep)
        else:
            mean, variance = self.moving_mean, self.moving_variance
        y = (x - mean.view(shape)) * torch.rsqrt(variance.view(shape) + self.epsilon)
        if self.gamma is not None:
            y = y * self.gamma.view(shape)
        if self.beta is not None:
            y = y + self.beta.view(shape)
        return y

    def tf_weights(self):
        out = {"moving_mean": _numpy(self.moving_mean), "moving_variance": _numpy(self.moving_variance)}
        if self.gamma is not None:
            out["gamma"] = _numpy(self.gamma)
        if self.beta is not None:
            out["beta"] = _numpy(self.beta)
        return out


class Activation(TfLayer):
    """Activation layer (Keras names; softmax over the channel axis)."""

    def __init__(self, name, class_name, config):
        super().__init__(name, class_name, config)
        self.act = activation(config.get("activation"), name)

    def forward(self, x):
        return self.act(x)


class ReLU(TfLayer):
    """ReLU with Keras' max_value (6: ReLU6), negative_slope and threshold."""

    def __init__(self, name, class_name, config):
        super().__init__(name, class_name, config)
        self.max_value = config.get("max_value", config.get("maxValue"))
        self.negative_slope = float(config.get("negative_slope") or 0.0)
        self.threshold = float(config.get("threshold") or 0.0)

    def forward(self, x):
        if self.negative_slope or self.threshold:
            y = torch.where(x >= self.threshold, x, self.negative_slope * (x - self.threshold))
        else:
            y = F.relu(x)
        return y if self.max_value is None else torch.clamp(y, max=float(self.max_value))


class LeakyReLU(TfLayer):
    """LeakyReLU with Keras' alpha (default 0.3, not PyTorch's 0.01)."""

    def __init__(self, name, class_name, config):
        super().__init__(name, class_name, config)
        self.alpha = float(config.get("alpha", config.get("negative_slope", 0.3)))

    def forward(self, x):
        return F.leaky_relu(x, self.alpha)


class Softmax(TfLayer):
    """Softmax layer over its TensorFlow axis (tfjs writes 1 for a rank-2 input: the classes; −1: the channels)."""

    def __init__(self, name, class_name, config):
        super().__init__(name, class_name, config)
        axis = config.get("axis", -1)
        self.axis = int(axis[0] if isinstance(axis, list) else axis)

    def forward(self, x):
        return torch.softmax(x, dim=tf_axis_to_dim(self.axis, x.dim()))


class ZeroPadding2D(TfLayer):
    """ZeroPadding2D: ((top, bottom), (left, right)) zeros, as MobileNetV2's Conv1_pad."""

    def __init__(self, name, class_name, config):
        super().__init__(name, class_name, config)
        _check_channels_last(name, config)
        padding = config.get("padding", 1)
        if isinstance(padding, int):
            rows = cols = (padding, padding)
        elif isinstance(padding[0], int):
            rows, cols = (padding[0], padding[0]), (padding[1], padding[1])
        else:
            rows, cols = tuple(padding[0]), tuple(padding[1])
        self.pad = (int(cols[0]), int(cols[1]), int(rows[0]), int(rows[1]))

    def forward(self, x):
        return F.pad(x, self.pad)


class _Pooling2D(TfLayer):
    def __init__(self, name, class_name, config):
        super().__init__(name, class_name, config)
        _check_channels_last(name, config)
        self.pool = _pair(config.get("pool_size", 2))
        strides = config.get("strides")
        self.strides = _pair(strides) if strides is not None else self.pool
        self.padding = config.get("padding", "valid")
        if self.padding not in ("same", "valid"):
            raise UnsupportedLayerError(f"Layer '{name}' ({class_name}) uses padding '{self.padding}'; only 'same' and 'valid' are supported.")


class MaxPooling2D(_Pooling2D):
    """MaxPooling2D; 'same' pads with −∞ as TensorFlow does, so padding never wins."""

    def forward(self, x):
        if self.padding == "same":
            x = _pad_same(x, self.pool, self.strides, (1, 1), value=float("-inf"))
        return F.max_pool2d(x, self.pool, self.strides)


class AveragePooling2D(_Pooling2D):
    """AveragePooling2D; with 'same' the padding is left out of the count (a corner averages only real pixels)."""

    def forward(self, x):
        if self.padding != "same":
            return F.avg_pool2d(x, self.pool, self.strides)
        padded = _pad_same(x, self.pool, self.strides, (1, 1))
        if padded is x:
            return F.avg_pool2d(x, self.pool, self.strides)
        ones = _pad_same(torch.ones_like(x[:1, :1]), self.pool, self.strides, (1, 1))
        area = float(self.pool[0] * self.pool[1])
        sums = F.avg_pool2d(padded, self.pool, self.strides) * area
        counts = F.avg_pool2d(ones, self.pool, self.strides) * area
        return sums / counts


class _GlobalPooling2D(TfLayer):
    def __init__(self, name, class_name, config):
        super().__init__(name, class_name, config)
        _check_channels_last(name, config)
        self.keepdims = bool(config.get("keepdims", False))


class GlobalAveragePooling2D(_GlobalPooling2D):
    """Mean over height and width → [N, C] (or [N, C, 1, 1] with keepdims)."""

    def forward(self, x):
        return x.mean(dim=(2, 3), keepdim=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Max over height and width → [N, C] (or [N, C, 1, 1] with keepdims)."""

    def forward(self, x):
        y = torch.amax(x, dim=(2, 3), keepdim=self.keepdims)
        return y


class Flatten(TfLayer):
    """Flatten in TensorFlow's order: an NCHW tensor is permuted to NHWC first, so the Dense after it sees the file's feature order."""

    def forward(self, x):
        if x.dim() == 4:
            x = x.permute(0, 2, 3, 1)
        return x.reshape(x.shape[0], -1)


class Reshape(TfLayer):
    """Reshape in TensorFlow's order (NHWC), back to NCHW when the result has rank 4."""

    def __init__(self, name, class_name, config):
        super().__init__(name, class_name, config)
        self.target = [int(d) for d in config["target_shape"]]

    def forward(self, x):
        if x.dim() == 4:
            x = x.permute(0, 2, 3, 1)
        y = x.reshape([x.shape[0]] + self.target)
        return y.permute(0, 3, 1, 2) if y.dim() == 4 else y


class Dropout(TfLayer):
    """Dropout at the file's rate in training mode; identity in eval mode (a frozen Dropout is off)."""

    def __init__(self, name, class_name, config):
        super().__init__(name, class_name, config)
        self.rate = float(config.get("rate", 0.0))
        if config.get("noise_shape") is not None:
            raise UnsupportedLayerError(f"Layer '{name}' (Dropout) has a noise_shape; only plain Dropout is supported.")

    def forward(self, x):
        return F.dropout(x, self.rate, self.training)


class Rescaling(TfLayer):
    """Rescaling: x · scale + offset."""

    def __init__(self, name, class_name, config):
        super().__init__(name, class_name, config)
        self.scale = config.get("scale", 1.0)
        self.offset = config.get("offset", 0.0)
        if isinstance(self.scale, list) or isinstance(self.offset, list):
            raise UnsupportedLayerError(f"Layer '{name}' (Rescaling) has a per-channel scale or offset; only numbers are supported.")

    def forward(self, x):
        return x * float(self.scale) + float(self.offset)


class InputLayer(TfLayer):
    """The model's input: passes the tensor through."""

    def forward(self, x):
        return x


class _Merge(TfLayer):
    def forward(self, inputs):
        result = inputs[0]
        for other in inputs[1:]:
            result = self.combine(result, other)
        return self.finish(result, len(inputs))

    def finish(self, result, _count):
        return result


class Add(_Merge):
    """Elementwise sum of the inputs."""

    def combine(self, a, b):
        return a + b


class Multiply(_Merge):
    """Elementwise product of the inputs."""

    def combine(self, a, b):
        return a * b


class Average(_Merge):
    """Elementwise mean of the inputs."""

    def combine(self, a, b):
        return a + b

    def finish(self, result, count):
        return result / count


class Maximum(_Merge):
    """Elementwise maximum of the inputs."""

    def combine(self, a, b):
        return torch.maximum(a, b)


class Minimum(_Merge):
    """Elementwise minimum of the inputs."""

    def combine(self, a, b):
        return torch.minimum(a, b)


class Concatenate(TfLayer):
    """Concatenate along a TensorFlow axis (−1 = channels = dim 1 of an NCHW tensor)."""

    def __init__(self, name, class_name, config):
        super().__init__(name, class_name, config)
        self.axis = int(config.get("axis", -1))

    def forward(self, inputs):
        return torch.cat(list(inputs), dim=tf_axis_to_dim(self.axis, inputs[0].dim()))


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

