"""The bundle's named errors: each message names the file, layer or value at fault and says what to do."""


class BundleError(Exception):
    """Base class: train.py prints the message and exits with status 2."""


class UnsupportedLayerError(BundleError):
    """A layer class (or a setting of one) the interpreter cannot reproduce with TensorFlow's semantics."""


class ModelFilesError(BundleError):
    """model.json or its weight files are missing, unreadable or do not match each other."""


class RecipeError(BundleError):
    """recipe.json is missing, unreadable, or a field is not what the studio writes."""


class DataFilesError(BundleError):
    """The images the recipe names (or --data points at) are missing or unreadable."""


class TrainingError(BundleError):
    """The run cannot go on: nothing left to train, or the loss became NaN or infinite."""


class FrozenInOptimizerError(TrainingError, AssertionError):
    """The seed's check failed: the optimizer holds a parameter whose requires_grad is False."""
