import { describe, expect, it } from 'vitest';
import { unsupportedLayersMessage, unsupportedPytorchLayers } from './pytorchSupport';

const supported = ['InputLayer', 'Conv2D', 'Dense', 'BatchNormalization', 'GlobalAveragePooling2D'];
const layer = (name: string, className: string, config: Record<string, unknown> = {}) => ({
  class_name: className,
  name,
  config: { name, ...config },
  inbound_nodes: [],
});

/** A functional model: input, conv, a nested functional model (conv + LSTM), an old-style Sequential, the head. */
const topology = {
  class_name: 'Functional',
  config: {
    name: 'outer',
    layers: [
      layer('input', 'InputLayer'),
      layer('conv', 'Conv2D'),
      layer('inner', 'Functional', { layers: [layer('inner_input', 'InputLayer'), layer('inner_conv', 'Conv2D'), layer('lstm', 'LSTM')] }),
      { class_name: 'Sequential', config: [layer('gru1', 'GRU'), layer('gru2', 'GRU'), layer('gru3', 'GRU'), layer('gru4', 'GRU')] },
      layer('head_pool', 'GlobalAveragePooling2D'),
      layer('head_dense', 'Dense'),
    ],
  },
};

describe('unsupportedPytorchLayers', () => {
  it('opens nested models and names each layer the interpreter cannot build, in model order', () => {
    expect(unsupportedPytorchLayers(topology, supported)).toEqual([
      { name: 'lstm', className: 'LSTM', parent: 'inner' },
      { name: 'gru1', className: 'GRU', parent: '' },
      { name: 'gru2', className: 'GRU', parent: '' },
      { name: 'gru3', className: 'GRU', parent: '' },
      { name: 'gru4', className: 'GRU', parent: '' },
    ]);
  });

  it('reads a model_config wrapper and finds nothing in a supported model', () => {
    const plain = { class_name: 'Functional', config: { name: 'm', layers: [layer('input', 'InputLayer'), layer('conv', 'Conv2D')] } };
    expect(unsupportedPytorchLayers({ model_config: plain }, supported)).toEqual([]);
    expect(unsupportedLayersMessage([], supported)).toBeNull();
  });

  it('names a supported layer with an activation the interpreter lacks', () => {
    const model = {
      class_name: 'Functional',
      config: { name: 'm', layers: [layer('d1', 'Dense', { activation: 'relu' }), layer('d2', 'Dense', { activation: 'gelu' })] },
    };
    expect(unsupportedPytorchLayers(model, supported, ['relu', 'linear'])).toEqual([{ name: 'd2', className: "Dense with activation 'gelu'", parent: null }]);
    expect(unsupportedPytorchLayers(model, supported)).toEqual([]);
  });

  it('says which classes and layers, and what to do', () => {
    const message = unsupportedLayersMessage(unsupportedPytorchLayers(topology, supported), supported)!;
    expect(message).toContain("does not build LSTM ('lstm'); GRU ('gru1', 'gru2', 'gru3' and 1 more)");
    expect(message).toContain('Cut the model before that layer');
    expect(message).toContain('Supported layer classes: InputLayer, Conv2D');
  });
});
