"""The layers that hold weights: Conv2D, DepthwiseConv2D, SeparableConv2D, Dense, BatchNormalization (TensorFlow layouts converted)."""
import numpy as np
import torch
import torch.nn.functional as F

from .base import TfLayer, channel_dim, to_numpy, pad_same, pair, to_param, activation, check_channels_last
from .errors import UnsupportedLayerError


class Conv2D(TfLayer):
    """Conv2D: HWIO kernel → OIHW weight; 'same' padded explicitly as TensorFlow pads (asymmetric)."""

    has_weights = True

    def __init__(self, name, class_name, config, weight):
        super().__init__(name, class_name, config)
        check_channels_last(name, config)
        self.kernel_size = pair(config["kernel_size"])
        self.strides = pair(config.get("strides", 1))
        self.dilation = pair(config.get("dilation_rate", 1))
        self.padding = config.get("padding", "valid")
        if self.padding not in ("same", "valid"):
            raise UnsupportedLayerError(f"Layer '{name}' ({class_name}) uses padding '{self.padding}'; only 'same' and 'valid' are supported.")
        self.act = activation(config.get("activation"), name)
        self.groups = int(config.get("groups", 1) or 1)
        self.kernel = to_param(np.transpose(weight("kernel"), (3, 2, 0, 1)))
        self.bias = to_param(weight("bias")) if config.get("use_bias", True) else None

    def forward(self, x):
        if self.padding == "same":
            x = pad_same(x, self.kernel_size, self.strides, self.dilation)
        return self.act(F.conv2d(x, self.kernel, self.bias, self.strides, 0, self.dilation, self.groups))

    def tf_weights(self):
        out = {"kernel": np.transpose(to_numpy(self.kernel), (2, 3, 1, 0))}
        if self.bias is not None:
            out["bias"] = to_numpy(self.bias)
        return out


class DepthwiseConv2D(TfLayer):
    """DepthwiseConv2D: [kh, kw, in, multiplier] kernel → groups=in, weight [in·multiplier, 1, kh, kw]."""

    has_weights = True

    def __init__(self, name, class_name, config, weight, kernel_name="depthwise_kernel"):
        super().__init__(name, class_name, config)
        check_channels_last(name, config)
        self.kernel_size = pair(config["kernel_size"])
        self.strides = pair(config.get("strides", 1))
        self.dilation = pair(config.get("dilation_rate", 1))
        self.padding = config.get("padding", "valid")
        if self.padding not in ("same", "valid"):
            raise UnsupportedLayerError(f"Layer '{name}' ({class_name}) uses padding '{self.padding}'; only 'same' and 'valid' are supported.")
        kernel = weight(kernel_name)
        kh, kw, channels, multiplier = kernel.shape
        self.channels, self.multiplier = int(channels), int(multiplier)
        self.depthwise_kernel = to_param(np.transpose(kernel, (2, 3, 0, 1)).reshape(channels * multiplier, 1, kh, kw))
        self.act = activation(config.get("activation"), name)
        self.bias = to_param(weight("bias")) if config.get("use_bias", True) and class_name == "DepthwiseConv2D" else None

    def depthwise(self, x):
        """The depthwise convolution alone (padding included), without bias or activation."""
        if self.padding == "same":
            x = pad_same(x, self.kernel_size, self.strides, self.dilation)
        return F.conv2d(x, self.depthwise_kernel, None, self.strides, 0, self.dilation, self.channels)

    def forward(self, x):
        y = self.depthwise(x)
        if self.bias is not None:
            y = y + self.bias.view(1, -1, 1, 1)
        return self.act(y)

    def _tf_depthwise(self):
        kh, kw = self.depthwise_kernel.shape[2:]
        return np.transpose(to_numpy(self.depthwise_kernel).reshape(self.channels, self.multiplier, kh, kw), (2, 3, 0, 1))

    def tf_weights(self):
        out = {"depthwise_kernel": self._tf_depthwise()}
        if self.bias is not None:
            out["bias"] = to_numpy(self.bias)
        return out


class SeparableConv2D(DepthwiseConv2D):
    """SeparableConv2D: the depthwise step (strides, padding, dilation), then a 1×1 pointwise conv, bias, activation."""

    def __init__(self, name, class_name, config, weight):
        super().__init__(name, class_name, config, weight)
        self.pointwise_kernel = to_param(np.transpose(weight("pointwise_kernel"), (3, 2, 0, 1)))
        self.bias = to_param(weight("bias")) if config.get("use_bias", True) else None

    def forward(self, x):
        return self.act(F.conv2d(self.depthwise(x), self.pointwise_kernel, self.bias))

    def tf_weights(self):
        out = {"depthwise_kernel": self._tf_depthwise(), "pointwise_kernel": np.transpose(to_numpy(self.pointwise_kernel), (2, 3, 1, 0))}
        if self.bias is not None:
            out["bias"] = to_numpy(self.bias)
        return out


class Dense(TfLayer):
    """Dense: [in, out] kernel → Linear weight [out, in]; applied to the last TensorFlow axis."""

    has_weights = True

    def __init__(self, name, class_name, config, weight):
        super().__init__(name, class_name, config)
        self.kernel = to_param(np.transpose(weight("kernel")))
        self.bias = to_param(weight("bias")) if config.get("use_bias", True) else None
        self.act = activation(config.get("activation"), name)

    def forward(self, x):
        if x.dim() == 4:
            return self.act(F.linear(x.permute(0, 2, 3, 1), self.kernel, self.bias)).permute(0, 3, 1, 2)
        return self.act(F.linear(x, self.kernel, self.bias))

    def tf_weights(self):
        out = {"kernel": np.transpose(to_numpy(self.kernel))}
        if self.bias is not None:
            out["bias"] = to_numpy(self.bias)
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
        self.gamma = to_param(weight("gamma")) if config.get("scale", True) else None
        self.beta = to_param(weight("beta")) if config.get("center", True) else None
        self.register_buffer("moving_mean", torch.from_numpy(np.ascontiguousarray(weight("moving_mean"), dtype=np.float32)))
        self.register_buffer("moving_variance", torch.from_numpy(np.ascontiguousarray(weight("moving_variance"), dtype=np.float32)))

    @property
    def torch_momentum(self):
        """The momentum in PyTorch's convention (weight of the new batch): 1 − Keras' momentum."""
        return 1.0 - self.momentum

    def forward(self, x):
        if x.dim() not in (2, 4) and self.axis != -1:
            raise UnsupportedLayerError(f"Layer '{self.layer_name}' (BatchNormalization) got a rank-{x.dim()} tensor with axis {self.axis}.")
        dim = channel_dim(x)
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
        out = {"moving_mean": to_numpy(self.moving_mean), "moving_variance": to_numpy(self.moving_variance)}
        if self.gamma is not None:
            out["gamma"] = to_numpy(self.gamma)
        if self.beta is not None:
            out["beta"] = to_numpy(self.beta)
        return out
