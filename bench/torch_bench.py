"""PyTorch side of `npm run bench` (issue 15): MobileNetV2 forward and training steps on this machine's CPU (or CUDA).

Two networks. "cpu": MobileNetV2 in plain torch.nn (torchvision's layout; torchvision itself is not installed here) — PyTorch
eager at its fastest, the reference the ratios use. "bundle": the studio's own built-in MobileNetV2 model.json read by the
PyTorch bundle (pytorch/transfer_studio_torch, load_model: TensorFlow's padding and BatchNorm semantics), when the bundle is
there — the same layers and weights as the studio, at the interpreter's own cost.
Plans as the studio's bench names them: full fine-tune, frozen half (the first 9 of the 18 preset blocks: stem … block_7),
last two blocks + head (block_15, block_16, Conv_1 and everything after the cut), head only (everything after flatten_1).
One untimed step, then the median of --repeats timed ones; Adam; batch of seeded random 224×224×3 images.
Prints one JSON object. Threads: torch.set_num_threads(os.cpu_count()) — it defaults to 1 here (TORCH-FACTS #3).
"""
import argparse
import json
import os
import re
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FROZEN_HALF = re.compile(r"^(Conv1|bn_Conv1|Conv1_relu|Conv1_pad|expanded_conv_|block_[1-7]_)")
LAST_TWO = re.compile(r"^(block_15_|block_16_|Conv_1$|Conv_1_bn$|out_relu$)")
CUT = "flatten_1"


def bundle_model(model_dir):
    sys.path.insert(0, os.path.join(ROOT, "pytorch"))
    import transfer_studio_torch as ts  # noqa: E402  (the bundle, when this repository has it)

    model = ts.load_model(model_dir)
    names = list(model.leaf_layers().keys())
    after_cut = set(names[names.index(CUT) + 1:]) if CUT in names else set()

    def freeze(plan):
        frozen = {}
        for name in names:
            if plan == "full fine-tune" or name in after_cut:
                continue
            if plan == "frozen half" and not FROZEN_HALF.match(name):
                continue
            if plan == "last two blocks + head" and LAST_TWO.match(name):
                continue
            frozen[name] = True
        ts.apply_freeze_plan(model, frozen)
        return lambda: model.train_mode()

    return model, freeze, "the studio's MobileNetV2 model.json through pytorch/transfer_studio_torch.load_model"


def _conv_bn(inp, out, kernel, stride, groups=1, relu=True):
    layers = [torch.nn.Conv2d(inp, out, kernel, stride, kernel // 2, groups=groups, bias=False), torch.nn.BatchNorm2d(out)]
    return layers + [torch.nn.ReLU6(inplace=True)] if relu else layers


class _InvertedResidual(torch.nn.Module):
    def __init__(self, inp, out, stride, expand):
        super().__init__()
        hidden = inp * expand
        layers = _conv_bn(inp, hidden, 1, 1) if expand != 1 else []
        layers += _conv_bn(hidden, hidden, 3, stride, groups=hidden) + _conv_bn(hidden, out, 1, 1, relu=False)
        self.body = torch.nn.Sequential(*layers)
        self.residual = stride == 1 and inp == out

    def forward(self, x):
        return x + self.body(x) if self.residual else self.body(x)


class EagerMobileNetV2(torch.nn.Module):
    """MobileNetV2 (Sandler et al.; torchvision's layout) in plain torch.nn: the reference PyTorch eager figure."""

    def __init__(self, classes=2):
        super().__init__()
        features = [torch.nn.Sequential(*_conv_bn(3, 32, 3, 2))]
        inp = 32
        for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
            for i in range(n):
                features.append(_InvertedResidual(inp, c, s if i == 0 else 1, t))
                inp = c
        features.append(torch.nn.Sequential(*_conv_bn(inp, 1280, 1, 1)))
        self.features = torch.nn.Sequential(*features)
        self.classifier = torch.nn.Linear(1280, classes)
        # torchvision's initialisation: activations keep their scale through the eval-mode BatchNorms.
        for m in self.modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, torch.nn.Linear):
                torch.nn.init.normal_(m.weight, 0, 0.01)
                torch.nn.init.zeros_(m.bias)

    def forward(self, x):
        return torch.softmax(self.classifier(self.features(x).mean((2, 3))), 1)


def eager_model():
    model = EagerMobileNetV2()
    blocks = list(model.features)  # 0 = stem, 1 = expanded_conv, 2..17 = block_1..block_16, 18 = Conv_1

    def freeze(plan):
        for p in model.parameters():
            p.requires_grad = True
        frozen = []
        if plan == "frozen half":
            frozen = blocks[:9]
        elif plan == "last two blocks + head":
            frozen = blocks[:16]
        elif plan == "head only":
            frozen = blocks
        for block in frozen:
            for p in block.parameters():
                p.requires_grad = False

        def train_mode():
            model.train()
            for block in frozen:
                block.eval()

        return train_mode

    return model, freeze, "MobileNetV2 in plain torch.nn (torchvision's layout, random weights)"


def median_ms(fn, repeats, sync):
    fn()
    sync()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(device, plans, forward_batch, step_batch, repeats, model_dir, which):
    model, freeze, network = bundle_model(model_dir) if which == "bundle" else eager_model()
    model = model.to(device)
    sync = (lambda: torch.cuda.synchronize()) if device.type == "cuda" else (lambda: None)
    generator = torch.Generator().manual_seed(1)
    out = {"network": network, "device": str(device), "steps": {}}
    if forward_batch:
        x = (torch.rand(forward_batch, 3, 224, 224, generator=generator) * 2 - 1).to(device)
        model.eval()
        with torch.no_grad():
            ms = median_ms(lambda: model(x), repeats, sync)
        out["forward"] = {"batch": forward_batch, "msPerBatch": ms, "msPerImage": ms / forward_batch, "imagesPerSecond": 1000 * forward_batch / ms}
    x = (torch.rand(step_batch, 3, 224, 224, generator=generator) * 2 - 1).to(device)
    y = torch.tensor([i % 2 for i in range(step_batch)], device=device)
    for plan in plans:
        train_mode = freeze(plan)
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.Adam(params, lr=1e-4)

        def step():
            train_mode()
            optimizer.zero_grad(set_to_none=True)
            probs = model(x)
            loss = torch.nn.functional.nll_loss(torch.log(probs.clamp_min(1e-7)), y)
            loss.backward()
            optimizer.step()

        ms = median_ms(step, repeats, sync)
        out["steps"][plan] = {"batch": step_batch, "msPerStep": ms, "imagesPerSecond": 1000 * step_batch / ms, "trainableParams": sum(p.numel() for p in params)}
    return out


def blas_info():
    """Which BLAS this torch calls and how fast a 1024² matrix product runs (Debian's build: the reference BLAS,
    "generic"; its convolutions go through oneDNN, so the figures are still PyTorch's usual ones on a quiet machine)."""
    config = torch.__config__.show()
    match = re.search(r"BLAS_INFO=([^,\s]+)", config)
    a = torch.rand(1024, 1024)
    a @ a
    started = time.perf_counter()
    for _ in range(3):
        a @ a
    seconds = (time.perf_counter() - started) / 3
    return {"info": match.group(1) if match else "unknown", "matmulGflops": 2 * 1024 ** 3 / seconds / 1e9}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", default=os.path.join(ROOT, "public/models/mobilenet_v2"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gpu", action="store_true", help="the training step at batch 32 on CUDA, when there is one")
    parser.add_argument("--skip-bundle", action="store_true", help="only the plain torch.nn reference")
    args = parser.parse_args()
    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    # Random weights shrink activations into subnormal floats, which x86 computes ~100× slower: flush them to zero.
    torch.set_flush_denormal(True)
    result = {"torch": torch.__version__, "threads": threads, "blas": blas_info()}
    plans = ["full fine-tune", "frozen half", "last two blocks + head", "head only"]
    has_bundle = os.path.isdir(os.path.join(ROOT, "pytorch", "transfer_studio_torch"))
    if args.gpu:
        if torch.cuda.is_available():
            result["cuda"] = {"name": torch.cuda.get_device_name(0), **measure(torch.device("cuda"), ["full fine-tune"], 0, 32, args.repeats, args.model_dir, "eager")}
        else:
            result["cuda"] = {"unavailable": f"torch {torch.__version__} sees no CUDA device here (torch.cuda.is_available() is False)"}
    else:
        # The reference: PyTorch eager on plain nn modules (what the table measured).
        result["cpu"] = measure(torch.device("cpu"), plans, 8, 4, args.repeats, args.model_dir, "eager")
        # The same model.json through the PyTorch bundle, when this repository has it (its interpreter's own cost).
        if has_bundle and not args.skip_bundle:
            result["bundle"] = measure(torch.device("cpu"), plans, 8, 4, args.repeats, args.model_dir, "bundle")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
