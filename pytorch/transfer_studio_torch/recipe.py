"""recipe.json (format 'transfer-studio-recipe', version 1): read and checked, each refusal naming the field."""
import json
import os

from .errors import RecipeError

FORMAT = "transfer-studio-recipe"
VERSION = 1


def _need(recipe, path, kind):
    value = recipe
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise RecipeError(f"recipe.json has no '{path}'; export the PyTorch project from the studio again.")
        value = value[key]
    if not isinstance(value, kind):
        raise RecipeError(f"recipe.json's '{path}' is {json.dumps(value)[:60]}, not a {kind.__name__ if isinstance(kind, type) else 'valid value'}.")
    return value


def load_recipe(path):
    """Reads and checks recipe.json; returns it as a dict with the studio's field names."""
    if not os.path.isfile(path):
        raise RecipeError(f"'{path}' is missing: train.py reads the recipe.json the studio wrote beside it.")
    try:
        with open(path, encoding="utf-8") as handle:
            recipe = json.load(handle)
    except (OSError, ValueError) as error:
        raise RecipeError(f"'{path}' is not valid JSON ({error}).") from error
    if not isinstance(recipe, dict) or recipe.get("format") != FORMAT:
        raise RecipeError(f"'{path}' is not a Transfer Studio recipe (format should be '{FORMAT}').")
    if recipe.get("version") != VERSION:
        raise RecipeError(f"'{path}' is recipe version {recipe.get('version')}; this train.py reads version {VERSION}. Export the project again.")
    _need(recipe, "classNames", list)
    _need(recipe, "freezePlan", dict)
    _need(recipe, "inputShape", dict)
    for key in ("height", "width", "channels"):
        _need(recipe, f"inputShape.{key}", int)
    rng = _need(recipe, "preprocessing.range", list)
    if len(rng) != 2:
        raise RecipeError(f"recipe.json's 'preprocessing.range' is {rng}; it should be [min, max].")
    if _need(recipe, "preprocessing.resize", str) not in ("stretch", "center-crop", "letterbox"):
        raise RecipeError(f"recipe.json's 'preprocessing.resize' is '{recipe['preprocessing']['resize']}'; use stretch, center-crop or letterbox.")
    config = _need(recipe, "config", dict)
    for key in ("epochs", "batchSize", "seed"):
        _need(recipe, f"config.{key}", int)
    _need(recipe, "config.learningRate", (int, float))
    if config.get("optimizer", "adam") not in ("adam", "sgd", "momentum"):
        raise RecipeError(f"recipe.json's 'config.optimizer' is '{config.get('optimizer')}'; use adam, sgd or momentum.")
    if config.get("schedule", "constant") not in ("constant", "cosine", "one-cycle"):
        raise RecipeError(f"recipe.json's 'config.schedule' is '{config.get('schedule')}'; use constant, cosine or one-cycle.")
    _need(recipe, "split.files", list)
    recipe.setdefault("batchNormOverrides", {})
    return recipe
