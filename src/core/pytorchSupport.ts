/**
 * Which layers of a model.json the bundle's PyTorch interpreter (pytorch/transfer_studio_torch) cannot build,
 * found at export time in the studio rather than at run time in Python. Pure: reads the Keras topology as data.
 */

/** Container classes whose layers the interpreter opens (a nested Keras application used as one layer). */
const CONTAINERS = new Set(['Functional', 'Model', 'Sequential']);

/** One layer the interpreter cannot build: its name, its class, and the nested model it sits in (null at the top). */
export interface UnsupportedLayer {
  name: string;
  className: string;
  parent: string | null;
}

type LayerJson = { class_name?: unknown; name?: unknown; config?: { name?: unknown; layers?: unknown; activation?: unknown } };

/** The layers of a container's config: `{layers: [...]}`, or a bare array (old Sequential configs). */
function layersOf(config: unknown): LayerJson[] {
  if (Array.isArray(config)) return config as LayerJson[];
  const layers = (config as { layers?: unknown } | null)?.layers;
  return Array.isArray(layers) ? (layers as LayerJson[]) : [];
}

/**
 * Every layer of `topology` (model.json's modelTopology: `{class_name, config: {layers}}`, or `{model_config: …}`),
 * nested models opened, whose class is not in `supported` (containers themselves are opened, not checked), or whose
 * `activation` is not in `activations` when given, in model order.
 */
export function unsupportedPytorchLayers(topology: unknown, supported: readonly string[], activations?: readonly string[]): UnsupportedLayer[] {
  const known = new Set(supported);
  const knownActivations = activations ? new Set(activations) : null;
  const out: UnsupportedLayer[] = [];
  const visit = (config: unknown, parent: string | null) => {
    for (const layer of layersOf(config)) {
      const className = String(layer.class_name ?? '');
      const name = String(layer.config?.name ?? layer.name ?? '');
      if (CONTAINERS.has(className)) visit(layer.config, name);
      else if (!known.has(className)) out.push({ name, className, parent });
      else if (knownActivations && typeof layer.config?.activation === 'string' && !knownActivations.has(layer.config.activation))
        out.push({ name, className: `${className} with activation '${layer.config.activation}'`, parent });
    }
  };
  const root = (topology as { model_config?: unknown } | null)?.model_config ?? topology;
  visit((root as { config?: unknown } | null)?.config, null);
  return out;
}

/**
 * The sentence the studio shows when the PyTorch project cannot be made: each unsupported class with up to three of
 * its layers, and what to do. Null when every layer is supported.
 */
export function unsupportedLayersMessage(layers: readonly UnsupportedLayer[], supported: readonly string[]): string | null {
  if (layers.length === 0) return null;
  const byClass = new Map<string, string[]>();
  for (const layer of layers) byClass.set(layer.className, [...(byClass.get(layer.className) ?? []), layer.name]);
  const parts = [...byClass].map(([className, names]) => {
    const shown = names.slice(0, 3).map((n) => `'${n}'`);
    const more = names.length > 3 ? ` and ${names.length - 3} more` : '';
    return `${className} (${shown.join(', ')}${more})`;
  });
  return (
    `The PyTorch project cannot be made: its interpreter does not build ${parts.join('; ')}. ` +
    `Cut the model before that layer, or use Export model for TensorFlow.js. Supported layer classes: ${supported.join(', ')}.`
  );
}
