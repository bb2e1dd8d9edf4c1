"""The studio's run in PyTorch: freeze plan, optimizer per multiplier, LR schedule, unfreezing steps, early stopping, DDP."""
import contextlib
import copy
import math
import os
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from .errors import TrainingError
from .freeze import apply_freeze_plan, param_groups, seed_checks, with_still_layers

MOMENTUM = 0.9
"""Momentum of the 'momentum' optimizer (the studio's)."""
ADAM_EPSILON = 1e-7
"""tfjs' Adam epsilon for float32 (PyTorch's default is 1e-8)."""
PROBABILITY_CLIP = 1e-7
"""Keras clips probabilities to [ε, 1 − ε] in categorical cross-entropy."""


def learning_rate_at(config, step, total_steps):
    """The studio's learningRateAt: constant, cosine to 0, or one-cycle (30 % warm-up from lr/25, cosine down to lr/1e4)."""
    lr = float(config["learningRate"])
    schedule = config.get("schedule") or "constant"
    cosine = lambda p: 0.5 * (1 + math.cos(math.pi * min(1.0, max(0.0, p))))  # noqa: E731
    if schedule == "constant" or total_steps <= 0:
        return lr
    if schedule == "cosine":
        return lr * cosine(step / total_steps)
    warmup = 0.3 * total_steps
    start = lr / 25
    if step < warmup:
        return start + (lr - start) * (step / warmup)
    end = lr / 1e4
    return end + (lr - end) * cosine((step - warmup) / (total_steps - warmup))


def make_optimizer(config, groups):
    """A fresh optimizer over `groups` (never reused across trainable sets): Adam (ε 1e-7 as tfjs), SGD, or SGD with momentum 0.9."""
    name = config.get("optimizer") or "adam"
    if name == "sgd":
        return torch.optim.SGD(groups, lr=float(config["learningRate"]))
    if name == "momentum":
        return torch.optim.SGD(groups, lr=float(config["learningRate"]), momentum=MOMENTUM)
    return torch.optim.Adam(groups, lr=float(config["learningRate"]), eps=ADAM_EPSILON)


def _grad_scaler():
    # torch.amp.GradScaler('cuda') from PyTorch 2.3 on; torch.cuda.amp.GradScaler before (deprecated since).
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler("cuda")
    return torch.cuda.amp.GradScaler()


def crossentropy(probabilities, labels):
    """Mean categorical cross-entropy of softmax outputs, clipped as Keras clips them."""
    picked = probabilities.gather(1, labels.view(-1, 1)).squeeze(1).float()
    return -torch.log(picked.clamp(PROBABILITY_CLIP, 1 - PROBABILITY_CLIP)).mean()


class Distributed:
    """The process group under torchrun (WORLD_SIZE > 1): gloo on CPU, nccl on CUDA; a single process otherwise."""

    def __init__(self):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        cuda = torch.cuda.is_available()
        self.device = torch.device(f"cuda:{self.local_rank}" if cuda else "cpu")
        if cuda:
            torch.cuda.set_device(self.device)
        if self.world > 1 and not dist.is_initialized():
            dist.init_process_group("nccl" if cuda else "gloo")
        self.backend = ("nccl" if cuda else "gloo") if self.world > 1 else None

    @property
    def main(self):
        """Rank 0 logs and writes."""
        return self.rank == 0

    def sum(self, values):
        """Sums a list of numbers over the processes (with one process, the numbers: no device tensor, no copy back)."""
        if self.world == 1:
            return [float(v) for v in values]
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def sync_buffers(self, model):
        """Copies rank 0's buffers (BN moving statistics) to every process: DDP broadcasts them before each forward, so
        after the last step each process holds the statistics of its own batch."""
        if self.world > 1:
            for buffer in model.buffers():
                dist.broadcast(buffer, 0)

    def barrier(self):
        """Waits for every process."""
        if self.world > 1:
            dist.barrier()

    def close(self):
        """Leaves the process group."""
        if self.world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def evaluate(model, dataset, batch_size, procs):
    """(loss, accuracy) of `model` in eval mode over `dataset`, sharded over the processes (every image once), or None when empty."""
    if len(dataset) == 0:
        return None
    indices = list(range(procs.rank, len(dataset), procs.world))
    loader = DataLoader(torch.utils.data.Subset(dataset, indices), batch_size=batch_size, shuffle=False)
    model.eval()
    loss_sum = correct = seen = 0.0
    with torch.no_grad():
        for xs, ys in loader:
            xs, ys = xs.to(procs.device), ys.to(procs.device)
            probs = model(xs)
            loss_sum += float(crossentropy(probs, ys)) * len(ys)
            correct += float((probs.argmax(1) == ys).sum())
            seen += len(ys)
    loss_sum, correct, seen = procs.sum([loss_sum, correct, seen])
    return loss_sum / seen, correct / seen


class Run:
    """One training run of `model` (a TfjsModel) with the recipe's config; `log` prints on rank 0 only."""

    def __init__(self, model, recipe, datasets, procs, epochs, amp=False, log=print, workers=0):
        self.model = model.to(procs.device)
        self.recipe = recipe
        self.config = recipe["config"]
        self.datasets = datasets
        self.procs = procs
        self.epochs = epochs
        self.workers = max(0, int(workers))
        self.log = log if procs.main else (lambda *_: None)
        self.amp = bool(amp and procs.device.type == "cuda")
        self.scaler = _grad_scaler() if self.amp else None
        self.multipliers = self.config.get("rateMultipliers") or {}
        self.plan = with_still_layers(recipe["freezePlan"], self.multipliers)
        self.overrides = dict(recipe.get("batchNormOverrides") or {})
        self.factor = 1.0
        self.history = []
        self.test = None  # the test split's result, set by fit() when there is one
        self.plan_changes = []
        self.start_plan = dict(self.plan)

    def _prepare(self, reason):
        """Applies the current plan, wraps for DDP afresh (its reducer is fixed at wrap time), builds a fresh optimizer, prints the checks."""
        apply_freeze_plan(self.model, self.plan, self.overrides)
        groups = param_groups(self.model, float(self.config["learningRate"]) * self.factor, self.multipliers)
        if not groups:
            raise TrainingError("Nothing to train: every layer of recipe.json's freezePlan is frozen (or at learning-rate multiplier 0). Unfreeze a layer in the studio and export again.")
        self.optimizer = make_optimizer(self.config, groups)
        if self.procs.world > 1:
            ids = [self.procs.local_rank] if self.procs.device.type == "cuda" else None
            self.wrapped = DistributedDataParallel(self.model, device_ids=ids)
        else:
            self.wrapped = self.model
        self.log(f"== {reason}")
        counts = self.recipe.get("counts") if reason == "start" else None
        for line in seed_checks(self.model, groups, counts):
            self.log(line)

    def _apply_schedule(self, epoch):
        due = [step for step in self.config.get("unfreezeSchedule") or [] if int(step["epoch"]) == epoch]
        if not due:
            return
        unfrozen = []
        for step in due:
            for name in step.get("unfreeze", []):
                # A layer at multiplier 0 stays still whatever the schedule says (the studio's withStillLayers).
                if self.multipliers.get(name, 1) == 0:
                    continue
                if self.plan.get(name):
                    unfrozen.append(name)
                self.plan[name] = False
            if step.get("learningRateFactor") is not None:
                self.factor = float(step["learningRateFactor"])
        self.plan = with_still_layers(self.plan, self.multipliers)
        label = "; ".join(step.get("label", "") for step in due)
        self.plan_changes.append({"step": self.step, "epoch": epoch + 1, "batch": 1, "cause": "schedule", "label": label,
                                  "unfrozen": unfrozen, "frozen": [], "learningRateFactor": self.factor})
        self._prepare(f"epoch {epoch + 1}: {label} (fresh optimizer, learning-rate factor {self.factor})")

    def _train_epoch(self, loader, total_steps):
        self.model.train_mode()
        loss_sum = correct = seen = 0.0
        started = time.perf_counter()
        for xs, ys in loader:
            xs, ys = xs.to(self.procs.device), ys.to(self.procs.device)
            base = learning_rate_at(self.config, self.step, total_steps) * self.factor
            for group in self.optimizer.param_groups:
                group["lr"] = base * group.get("multiplier", 1.0)
            self.optimizer.zero_grad(set_to_none=True)
            with torch.autocast("cuda") if self.amp else contextlib.nullcontext():
                probs = self.wrapped(xs)
            loss = crossentropy(probs, ys)
            value = float(loss)  # one copy to the host per step (a blocking one on CUDA)
            # Before any weight moves, and on every process at once (one rank raising alone would leave the others waiting in DDP).
            if self.procs.sum([0.0 if math.isfinite(value) else 1.0])[0] > 0:
                raise TrainingError(
                    f"The loss became {value} at step {self.step + 1} (on at least one process); no weight was changed by that step. "
                    "Lower the learning rate (recipe.json's config.learningRate) and train again."
                )
            if self.scaler is not None:
                self.scaler.scale(loss).backward()
                self.scaler.step(self.optimizer)
                self.scaler.update()
            else:
                loss.backward()
                self.optimizer.step()
            loss_sum += value * len(ys)
            correct += float((probs.argmax(1) == ys).sum())
            seen += len(ys)
            self.step += 1
        loss_sum, correct, seen = self.procs.sum([loss_sum, correct, seen])
        return loss_sum / max(seen, 1), correct / max(seen, 1), (time.perf_counter() - started) * 1000

    def fit(self):
        """Trains; returns the metrics per epoch (the studio's EpochMetrics). Ends on the best validation-loss weights when early stopping is on."""
        config, procs = self.config, self.procs
        train = self.datasets["train"]
        batch = max(1, min(int(config["batchSize"]), len(train)))
        per_process = max(1, math.ceil(batch / procs.world))
        sampler = DistributedSampler(train, num_replicas=procs.world, rank=procs.rank, shuffle=True, seed=int(config["seed"]))
        cuda = procs.device.type == "cuda"
        loader = DataLoader(train, batch_size=per_process, sampler=sampler, num_workers=self.workers, pin_memory=cuda)  # workers re-made each epoch: they see set_epoch
        total_steps = self.epochs * len(loader)
        patience = (config.get("earlyStopping") or {}).get("patience")
        self.step = 0
        self._prepare("start")
        best, best_loss, since_best = None, math.inf, 0
        self.log(f"Training {len(train)} images ({procs.world} process{'es' if procs.world > 1 else ''}, {per_process} per process per step), "
                 f"{len(self.datasets['validation'])} validation, {self.epochs} epochs")
        for epoch in range(self.epochs):
            self._apply_schedule(epoch)
            sampler.set_epoch(epoch)
            train.set_epoch(epoch)
            loss, accuracy, millis = self._train_epoch(loader, total_steps)
            procs.sync_buffers(self.model)
            val = evaluate(self.model, self.datasets["validation"], per_process, procs)
            metrics = {"epoch": epoch, "trainLoss": loss, "trainAccuracy": accuracy, "validationLoss": val[0] if val else None,
                       "validationAccuracy": val[1] if val else None, "millis": millis}
            self.history.append(metrics)
            shown = f", validation loss {val[0]:.4f}, accuracy {val[1]:.2%}" if val else ""
            self.log(f"epoch {epoch + 1}/{self.epochs}: loss {loss:.4f}, accuracy {accuracy:.2%}{shown} ({millis:.0f} ms)")
            if val is not None:
                if val[0] < best_loss:
                    best_loss, since_best = val[0], 0
                    best = {"epoch": epoch, "state": copy.deepcopy(self.model.state_dict()), "plan": dict(self.plan)}
                else:
                    since_best += 1
            if patience is not None and val is not None and since_best >= patience and epoch + 1 < self.epochs:
                self.log(f"Early stopping: no better validation loss for {patience} epochs.")
                break
        if patience is not None and best is not None and best["epoch"] != len(self.history) - 1:
            self.model.load_state_dict(best["state"])
            self.log(f"The weights of epoch {best['epoch'] + 1} (best validation loss {best_loss:.4f}) were restored.")
        self.best_epoch = best["epoch"] if patience is not None and best is not None else len(self.history) - 1
        test = evaluate(self.model, self.datasets.get("test", []), per_process, procs)
        self.test = {"loss": test[0], "accuracy": test[1], "images": len(self.datasets["test"])} if test else None
        if test:
            self.log(f"Test ({len(self.datasets['test'])} images, never trained on): loss {test[0]:.4f}, accuracy {test[1]:.2%}")
        return self.history

