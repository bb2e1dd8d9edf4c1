"""The layers without weights: activations, padding, pooling (TensorFlow's 'same'), merges, reshapes, dropout, rescaling."""
import torch
import torch.nn.functional as F

from .base import TfLayer, activation, check_channels_last, pad_same, pair, tf_axis_to_dim
from .errors import UnsupportedLayerError


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
        check_channels_last(name, config)
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
        check_channels_last(name, config)
        self.pool = pair(config.get("pool_size", 2))
        strides = config.get("strides")
        self.strides = pair(strides) if strides is not None else self.pool
        self.padding = config.get("padding", "valid")
        if self.padding not in ("same", "valid"):
            raise UnsupportedLayerError(f"Layer '{name}' ({class_name}) uses padding '{self.padding}'; only 'same' and 'valid' are supported.")


class MaxPooling2D(_Pooling2D):
    """MaxPooling2D; 'same' pads with −∞ as TensorFlow does, so padding never wins."""

    def forward(self, x):
        if self.padding == "same":
            x = pad_same(x, self.pool, self.strides, (1, 1), value=float("-inf"))
        return F.max_pool2d(x, self.pool, self.strides)


class AveragePooling2D(_Pooling2D):
    """AveragePooling2D; with 'same' the padding is left out of the count (a corner averages only real pixels)."""

    def forward(self, x):
        if self.padding != "same":
            return F.avg_pool2d(x, self.pool, self.strides)
        padded = pad_same(x, self.pool, self.strides, (1, 1))
        if padded is x:
            return F.avg_pool2d(x, self.pool, self.strides)
        ones = pad_same(torch.ones_like(x[:1, :1]), self.pool, self.strides, (1, 1))
        area = float(self.pool[0] * self.pool[1])
        sums = F.avg_pool2d(padded, self.pool, self.strides) * area
        counts = F.avg_pool2d(ones, self.pool, self.strides) * area
        return sums / counts


class _GlobalPooling2D(TfLayer):
    def __init__(self, name, class_name, config):
        super().__init__(name, class_name, config)
        check_channels_last(name, config)
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
