/** A model that ships with the studio, under public/models/. */
export interface BuiltInModel {
  id: string;
  /** Short name for the picker. */
  label: string;
  /** model.json, relative to the page. */
  path: string;
  /** What it is and where its weights come from, in one or two sentences. */
  about: string;
  /** Whether picking it starts with every pretrained layer frozen (otherwise the file's own flags apply). */
  freezeAll: boolean;
}

/** The built-in models, the fast default first. */
export const BUILT_IN_MODELS: readonly BuiltInModel[] = [
  {
    id: 'digits',
    label: 'Digits CNN',
    path: 'models/digits/model.json',
    about:
      'A small CNN (26,517 parameters, 28×28 grey) that this repository trains on MNIST digits 0–4 (npm run pretrain). Fast everywhere: the first-minute demo.',
    freezeAll: true,
  },
  {
    id: 'mobilenet_v2',
    label: 'MobileNetV2',
    path: 'models/mobilenet_v2/model.json',
    about:
      'MobileNetV2 (alpha 1.0, 224×224 RGB, 2.6 M parameters) as shipped by the NSFWJS project (MIT): an ImageNet-family backbone that NSFWJS fine-tuned to 5 content-moderation classes. The studio cuts that head off. Converted from the npm package nsfwjs 4.4.0 at install time (npm run models).',
    freezeAll: false,
  },
];

/** The model the studio opens with. */
export const DEFAULT_MODEL_ID = 'digits';
