"""Transfer Studio's PyTorch bundle: a tfjs Layers model as a torch module with TensorFlow's semantics, and the studio's freeze plan."""
from .errors import BundleError, DataFilesError, ModelFilesError, RecipeError, UnsupportedLayerError
from .graph import TfjsModel, check_layers, load_model
from .layers import SUPPORTED_LAYER_CLASSES

__all__ = [
    "BundleError", "DataFilesError", "ModelFilesError", "RecipeError", "UnsupportedLayerError",
    "TfjsModel", "check_layers", "load_model", "SUPPORTED_LAYER_CLASSES",
]
