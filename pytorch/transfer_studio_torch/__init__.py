"""Transfer Studio's PyTorch bundle: a tfjs Layers model as a torch module with TensorFlow's semantics, and the studio's freeze plan.

load_model(dir) → TfjsModel (NCHW float32 input in the recipe's range → softmax probabilities); apply_freeze_plan(model, plan,
batch_norm_overrides) sets requires_grad and which layers train; model.train_mode() puts trainable layers in train mode and
frozen ones in eval(); param_groups(model, lr, rate_multipliers) gives optimizer groups over the trainable parameters only.
"""
from .errors import BundleError, DataFilesError, ModelFilesError, RecipeError, TrainingError, UnsupportedLayerError
from .freeze import apply_freeze_plan, keras_counts, param_groups, seed_checks, with_still_layers
from .graph import TfjsModel, check_layers, load_model
from .layers import SUPPORTED_LAYER_CLASSES

__all__ = [
    "BundleError", "DataFilesError", "ModelFilesError", "RecipeError", "TrainingError", "UnsupportedLayerError",
    "apply_freeze_plan", "keras_counts", "param_groups", "seed_checks", "with_still_layers",
    "TfjsModel", "check_layers", "load_model", "SUPPORTED_LAYER_CLASSES",
]
