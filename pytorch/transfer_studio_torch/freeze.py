"""The studio's freeze plan, the seed's way: requires_grad False, frozen layers in eval(), an optimizer over the trainable parameters only."""
from .layers import BatchNormalization
from .errors import FrozenInOptimizerError


def with_still_layers(freeze_plan, rate_multipliers):
    """The plan with every layer whose learning-rate multiplier is 0 frozen (the studio's withStillLayers)."""
    plan = dict(freeze_plan)
    for name, multiplier in (rate_multipliers or {}).items():
        if multiplier == 0:
            plan[name] = True
    return plan


def runs_in_training_mode(layer, frozen, mode):
    """The studio's runsInTrainingMode: a trainable layer trains (unless a BN set to 'inference'); a frozen one only as a 'train-stats' BN."""
    is_bn = isinstance(layer, BatchNormalization)
    if not frozen:
        return not (is_bn and mode == "inference")
    return is_bn and mode == "train-stats"


def apply_freeze_plan(module, freeze_plan, batch_norm_overrides=None):
    """
    Applies `freeze_plan` (leaf layer name → frozen; layers left out are trainable) to a TfjsModel: every
    parameter of a frozen layer gets requires_grad = False, every other one True; the layers that run in
    training mode are recorded for `module.train_mode()` (a frozen layer runs in eval(): BN on its moving
    statistics, never updating them, Dropout off; BN overrides 'inference' / 'train-stats' as the studio's).
    Returns the names of the frozen layers.
    """
    overrides = batch_norm_overrides or {}
    frozen_names = []
    training = set()
    for name, layer in module.leaf_layers().items():
        frozen = bool(freeze_plan.get(name, False))
        for parameter in layer.parameters(recurse=False):
            parameter.requires_grad = not frozen
        layer.tf_trainable = not frozen
        if frozen:
            frozen_names.append(name)
        if runs_in_training_mode(layer, frozen, overrides.get(name)):
            training.add(name)
    module.frozen_layers = set(frozen_names)
    module.training_mode_layers = training
    return frozen_names


def named_tf_parameters(module):
    """(Keras weight name 'layer/kernel', layer name, parameter) for every parameter, in model order."""
    out = []
    for name, layer in module.leaf_layers().items():
        for suffix, parameter in layer.named_parameters(recurse=False):
            out.append((f"{name}/{suffix}", name, parameter))
    return out


def param_groups(module, learning_rate, rate_multipliers=None):
    """
    Optimizer parameter groups over the trainable parameters only (requires_grad True), one group per distinct
    learning-rate multiplier (layers left out: 1; multiplier 0 is left out entirely, as a frozen layer):
    [{'params', 'lr': learning_rate × multiplier, 'multiplier', 'names'}], in order of first appearance.
    """
    multipliers = rate_multipliers or {}
    groups = {}
    for weight_name, layer_name, parameter in named_tf_parameters(module):
        multiplier = float(multipliers.get(layer_name, 1.0))
        if not parameter.requires_grad or multiplier == 0:
            continue
        group = groups.setdefault(multiplier, {"params": [], "lr": learning_rate * multiplier, "multiplier": multiplier, "names": []})
        group["params"].append(parameter)
        group["names"].append(weight_name)
    return list(groups.values())


def keras_counts(module):
    """(trainable, non-trainable) scalar counts as Keras counts them: BN moving statistics and frozen weights are non-trainable."""
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in module.parameters() if not p.requires_grad)
    buffers = sum(b.numel() for b in module.buffers())
    return trainable, frozen + buffers


def seed_checks(module, optimizer_groups, expected_counts=None):
    """
    The seed article's checks, as lines to print: the frozen parameters by name, the trainable / non-trainable
    counts (against the studio's, when given), and the assertion that no optimizer parameter has requires_grad
    False. Raises FrozenInOptimizerError (an AssertionError, and a named error of the bundle) when the optimizer
    holds a frozen parameter.
    """
    lines = []
    params = list(named_tf_parameters(module))
    frozen = [(name, tuple(p.shape)) for name, _, p in params if not p.requires_grad]
    lines.append(f"Frozen parameters ({len(frozen)}):")
    lines.extend(f"  {name} {list(shape)}" for name, shape in frozen)
    trainable, non_trainable = keras_counts(module)
    if expected_counts:
        same = trainable == expected_counts.get("trainable") and non_trainable == expected_counts.get("nonTrainable")
        verdict = "the same as the studio shows" if same else f"MISMATCH: the studio shows {expected_counts.get('trainable')} / {expected_counts.get('nonTrainable')}"
    else:
        verdict = "no studio counts to compare"
    lines.append(f"Trainable parameters: {trainable:,}; non-trainable: {non_trainable:,} ({verdict})")
    held = [p for group in optimizer_groups for p in group["params"]]
    names = {id(p): name for name, _, p in params}
    bad = [names.get(id(p), f"a parameter of shape {list(p.shape)}") for p in held if not p.requires_grad]
    if bad:  # a plain `assert` would vanish under python -O
        raise FrozenInOptimizerError(f"{len(bad)} parameters the optimizer holds have requires_grad = False: {', '.join(bad[:5])}{' …' if len(bad) > 5 else ''}")
    lines.append(f"Check passed: all {len(held)} parameters the optimizer holds have requires_grad = True")
    return lines
