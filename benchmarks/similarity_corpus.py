"""A labelled class for the similarity check: honest solutions and disguised copies.

Honest students fill the committed stub of `losses` and `optimizers` independently. Each
function has several genuinely different implementations (vectorised or with loops,
with helpers or inline, numpy functions or array methods, in-place or assigned updates,
different state layouts), each with choice points of its own, and each student has
habits applied throughout the file (how they write N, how they loop over parameters,
how they add weight decay, whether they keep the docstrings, how they comment). A
student draws one implementation per function, so two honest students share a function
only as often as a real class would.

Copies take a classmate's file (or, for a leak, the hidden reference filled into the
stub) and apply disguises: renamed identifiers, reordered functions, comments and blank
lines changed, loops rewritten as comprehensions and back, dead code inserted; or copy
only a function or two from a classmate into an otherwise honest file.

Everything is drawn from `random.Random(seed)`: the same seed gives the same class.
"""

from __future__ import annotations

import ast
import random
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ("losses", "optimizers")
# "classmate": a function or two of the copy come from a second classmate instead
DISGUISES = ("rename", "reorder", "comments", "loops", "deadcode", "classmate")
TEXT_DISGUISES = DISGUISES[:-1]

# ---------------------------------------------------------------- habits (one draw per student)

HABITS: dict[str, list[str]] = {
    "N": ["{x}.shape[0]", "len({x})", "{x}.shape[0]", "int({x}.shape[0])"],
    "FLOAT": ["float({e})", "float({e})", "{e}.item()"],
    "LOOP": [
        "for i, (p, g) in enumerate(zip(self.params, grads)):\n    st = self.state[i]",
        "for p, g, st in zip(self.params, grads, self.state):",
        "for i in range(len(self.params)):\n    p, g, st = self.params[i], grads[i], self.state[i]",
        "for i, p in enumerate(self.params):\n    g = grads[i]\n    st = self.state[i]",
        "for idx, p in enumerate(self.params):\n    st = self.state[idx]\n    g = np.asarray(grads[idx], dtype=np.float64)",
    ],
    "WD": [
        "if self.weight_decay != 0:\n    g = g + self.weight_decay * p",
        "if self.weight_decay:\n    g = g + p * self.weight_decay",
        "g = g + self.weight_decay * p if self.weight_decay else g",
        "g = g + self.weight_decay * p",
        "if self.weight_decay > 0.0:\n    g = self.weight_decay * p + g",
    ],
    "UPDATE": ["p -= {e}", "p[...] = p - {e}", "np.subtract(p, {e}, out=p)", "p[:] -= {e}"],
    # how a student writes a few everyday expressions, everywhere in the file
    "ZEROS": ["np.zeros_like(p)", "np.zeros(p.shape)", "np.zeros_like(p, dtype=np.float64)",
              "0.0 * p", "np.full_like(p, 0.0)"],
    "COPY": ["g.copy()", "np.copy(g)", "np.array(g, copy=True)", "g + 0.0"],
    "SQUARE": ["g * g", "g ** 2", "np.square(g)", "np.power(g, 2)"],
    "LOCALS": ["", "lr = self.lr", "lr, wd = self.lr, self.weight_decay"],
}

# ---------------------------------------------------------------- losses: implementations

LOSSES: dict[str, list[str]] = {
    "mse": [
        "return $FLOAT(np.sum((target - pred) ** 2) / $N(pred))$",
        "diff = pred - target\nreturn $FLOAT((diff * diff).sum() / $N(pred))$",
        "n = $N(pred)$\nsq = «np.square(pred - target)||(pred - target) ** 2»\nreturn $FLOAT(np.sum(sq) / n)$",
        "per_row = ((pred - target) ** 2).reshape(len(pred), -1).sum(axis=1)\nreturn $FLOAT(per_row.mean())$",
        "total = 0.0\nfor i in range(len(pred)):\n    total += np.sum((pred[i] - target[i]) ** 2)\nreturn float(total / len(pred))",
    ],
    "mse_grad": [
        "return -2.0 / $N(pred)$ * (target - pred)",
        "n = $N(pred)$\nreturn 2 * (pred - target) / n",
        "grad = (pred - target) * (2.0 / $N(pred)$)\nreturn grad.astype(np.float64)",
        "return np.multiply(2.0 / len(pred), pred - target)",
    ],
    "l1": [
        "return $FLOAT(np.sum(np.abs(target - pred)) / $N(pred))$",
        "n = $N(pred)$\nreturn $FLOAT(abs(pred - target).sum() / n)$",
        "per_row = np.abs(pred - target).reshape(len(pred), -1).sum(axis=1)\nreturn $FLOAT(per_row.mean())$",
        "err = np.absolute(pred - target)\nreturn float(err.sum()) / «len(pred)||pred.shape[0]»",
    ],
    "l1_grad": [
        "return np.sign(pred - target) / $N(pred)$",
        "n = $N(pred)$\ng = np.zeros_like(pred)\ng[pred > target] = 1.0\ng[pred < target] = -1.0\nreturn g / n",
        "return np.where(pred > target, 1.0, np.where(pred < target, -1.0, 0.0)) / len(pred)",
        "s = np.sign(pred - target).astype(np.float64)\nreturn s / «pred.shape[0]||len(pred)»",
    ],
    "huber": [
        "r = np.abs(pred - target)\nh = np.where(r <= delta, 0.5 * r ** 2, delta * (r - 0.5 * delta))\nreturn $FLOAT(h.sum() / $N(pred))$",
        "r = pred - target\nquad = 0.5 * r * r\nlin = delta * (np.abs(r) - delta / 2)\nloss = np.where(np.abs(r) <= delta, quad, lin)\nreturn $FLOAT(np.sum(loss) / $N(pred))$",
        "a = np.abs(target - pred)\nsmall = a <= delta\ntotal = np.sum(0.5 * a[small] ** 2) + np.sum(delta * (a[~small] - 0.5 * delta))\nreturn float(total / $N(pred)$)",
        "r = np.abs(pred - target)\nq = np.minimum(r, delta)\nreturn $FLOAT(np.sum(0.5 * q ** 2 + delta * (r - q)) / $N(pred))$",
    ],
    "huber_grad": [
        "r = pred - target\nreturn np.clip(r, -delta, delta) / $N(pred)$",
        "r = pred - target\ng = np.where(np.abs(r) <= delta, r, delta * np.sign(r))\nreturn g / $N(pred)$",
        "r = pred - target\nout = r.copy()\nbig = np.abs(r) > delta\nout[big] = delta * np.sign(r[big])\nreturn out / len(pred)",
    ],
    "softmax": [
        "z = logits - logits.max(axis=-1, keepdims=True)\ne = np.exp(z)\nreturn e / e.sum(axis=-1, keepdims=True)",
        "shifted = logits - np.max(logits, axis=-1, keepdims=True)\nexps = np.exp(shifted)\nreturn exps / np.sum(exps, axis=-1, keepdims=True)",
        "return np.exp(log_softmax(logits))",
        "m = np.amax(logits, axis=-1)[..., None]\nnum = np.exp(logits - m)\nden = num.sum(-1)[..., None]\nreturn num / den",
    ],
    "log_softmax": [
        "z = logits - logits.max(axis=-1, keepdims=True)\nreturn z - np.log(np.exp(z).sum(axis=-1, keepdims=True))",
        "m = np.max(logits, axis=-1, keepdims=True)\nlse = m + np.log(np.sum(np.exp(logits - m), axis=-1, keepdims=True))\nreturn logits - lse",
        "shifted = logits - np.amax(logits, -1, keepdims=True)\nlog_den = np.log(np.exp(shifted).sum(-1, keepdims=True))\nreturn shifted - log_den",
    ],
    "cross_entropy": [
        "lp = log_softmax(logits)\nn = $N(logits)$\nreturn $FLOAT(-lp[np.arange(n), labels].mean())$",
        "n = logits.shape[0]\nlogp = log_softmax(logits)\nreturn -float(np.sum(logp[np.arange(n), labels])) / n",
        "total = 0.0\nlp = log_softmax(logits)\nfor i, c in enumerate(labels):\n    total -= lp[i, c]\nreturn float(total / len(labels))",
        "m = logits.max(axis=1)\nlse = m + np.log(np.exp(logits - m[:, None]).sum(axis=1))\npicked = np.take_along_axis(logits, labels[:, None], axis=1)[:, 0]\nreturn $FLOAT(np.mean(lse - picked))$",
    ],
    "cross_entropy_grad": [
        "n = $N(logits)$\ng = softmax(logits)\ng[np.arange(n), labels] -= 1\nreturn g / n",
        "p = softmax(logits)\nonehot = np.zeros_like(p)\nonehot[np.arange(len(labels)), labels] = 1.0\nreturn (p - onehot) / $N(logits)$",
        "probs = softmax(logits).copy()\nfor i, c in enumerate(labels):\n    probs[i, c] -= 1.0\nreturn probs / len(labels)",
        "eye = np.eye(logits.shape[1])[labels]\nreturn (softmax(logits) - eye) / logits.shape[0]",
    ],
    "binary_cross_entropy_with_logits": [
        "x, t = logits, targets\nloss = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))\nreturn $FLOAT(loss.sum() / $N(logits))$",
        "per = np.clip(logits, 0, None) - logits * targets + np.log(1 + np.exp(-np.abs(logits)))\nreturn $FLOAT(np.sum(per) / $N(logits))$",
        "pos = np.maximum(logits, 0.0)\nsoft = np.log1p(np.exp(-np.absolute(logits)))\nreturn float(np.sum(pos - logits * targets + soft) / len(logits))",
        "x = logits.reshape(len(logits), -1)\nt = targets.reshape(len(targets), -1)\nrow = (np.maximum(x, 0) - x * t + np.logaddexp(0, -np.abs(x))).sum(axis=1)\nreturn $FLOAT(row.mean())$",
    ],
    "binary_cross_entropy_with_logits_grad": [
        "sig = np.where(logits >= 0, 1 / (1 + np.exp(-np.abs(logits))), np.exp(-np.abs(logits)) / (1 + np.exp(-np.abs(logits))))\nreturn (sig - targets) / $N(logits)$",
        "s = 0.5 * (1 + np.tanh(0.5 * logits))\nreturn (s - targets) / $N(logits)$",
        "e = np.exp(-np.abs(logits))\nsig = np.where(logits >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\nreturn (sig - targets) / len(logits)",
        "from scipy.special import expit\nreturn (expit(logits) - targets) / logits.shape[0]",
    ],
    "gaussian_nll": [
        "per = (target - mean) ** 2 / (2 * var) + 0.5 * np.log(2 * np.pi * var)\nper = np.broadcast_to(per, mean.shape)\nreturn $FLOAT(per.sum() / $N(mean))$",
        "var = np.broadcast_to(np.asarray(var, dtype=np.float64), mean.shape)\nsq = (target - mean) ** 2\nterm = sq / (2.0 * var) + 0.5 * np.log(2.0 * np.pi * var)\nreturn $FLOAT(np.sum(term) / $N(mean))$",
        "v = np.ones_like(mean) * var\nnll = 0.5 * (np.log(2 * math.pi * v) + (mean - target) ** 2 / v)\nreturn float(nll.sum()) / len(mean)",
    ],
    "gaussian_nll_grad": [
        "n = $N(mean)$\ndmean = (mean - target) / (var * n)\ndvar = (1 / (2 * var) - (target - mean) ** 2 / (2 * var ** 2)) / n\nif np.isscalar(var) or np.ndim(var) == 0:\n    dvar = float(np.sum(dvar))\nreturn dmean, dvar",
        "n = mean.shape[0]\nr = target - mean\ndm = -r / var / n\ndv = (0.5 / var - 0.5 * r ** 2 / var ** 2) / n\nif isinstance(var, np.ndarray):\n    return dm, dv\nreturn dm, float(dv.sum())",
        "scalar = np.ndim(var) == 0\nv = np.broadcast_to(np.asarray(var, dtype=np.float64), mean.shape)\nn = len(mean)\ngrad_mean = (mean - target) / (v * n)\ngrad_var = (1.0 / (2.0 * v) - np.square(target - mean) / (2.0 * v * v)) / n\nreturn grad_mean, (float(grad_var.sum()) if scalar else grad_var)",
    ],
}

# ---------------------------------------------------------------- optimizers: implementations

OPTIMIZERS: dict[str, list[str]] = {
    "SGD.step": [
        "$LOOP$\n    $WD$\n    $UPDATE(self.lr * g)$",
        "lr = self.lr\nfor p, g in zip(self.params, grads):\n    step = g + self.weight_decay * p if self.weight_decay else g\n    p -= lr * step",
        "for k in range(len(self.params)):\n    d = grads[k].copy()\n    if self.weight_decay != 0.0:\n        d += self.weight_decay * self.params[k]\n    self.params[k] -= self.lr * d",
    ],
    "Momentum.step": [
        "$LOOP$\n    $WD$\n    if 'buf' not in st:\n        st['buf'] = g.copy()\n    else:\n        st['buf'] = self.momentum * st['buf'] + g\n    $UPDATE(self.lr * st['buf'])$",
        "$LOOP$\n    $WD$\n    buf = st.get('momentum_buffer')\n    buf = np.array(g, copy=True) if buf is None else self.momentum * buf + g\n    st['momentum_buffer'] = buf\n    $UPDATE(self.lr * buf)$",
        "for i in range(len(self.params)):\n    p = self.params[i]\n    g = grads[i] + (self.weight_decay * p if self.weight_decay else 0)\n    if not self.state[i]:\n        self.state[i]['v'] = np.copy(g)\n    else:\n        v = self.state[i]['v']\n        v *= self.momentum\n        v += g\n    p -= self.lr * self.state[i]['v']",
    ],
    "NAG.step": [
        "$LOOP$\n    $WD$\n    if 'buf' in st:\n        st['buf'] = self.momentum * st['buf'] + g\n    else:\n        st['buf'] = g.copy()\n    $UPDATE(self.lr * (g + self.momentum * st['buf']))$",
        "$LOOP$\n    $WD$\n    b = st.get('b')\n    b = g.copy() if b is None else b * self.momentum + g\n    st['b'] = b\n    look = g + self.momentum * b\n    $UPDATE(self.lr * look)$",
        "for i, p in enumerate(self.params):\n    g = grads[i] + self.weight_decay * p\n    s = self.state[i]\n    s['velocity'] = g.copy() if 'velocity' not in s else self.momentum * s['velocity'] + g\n    p -= self.lr * (self.momentum * s['velocity'] + g)",
    ],
    "Adagrad.step": [
        "$LOOP$\n    $WD$\n    if 'sum' not in st:\n        st['sum'] = np.zeros_like(p)\n    st['sum'] += g * g\n    $UPDATE(self.lr * g / (np.sqrt(st['sum']) + self.eps))$",
        "$LOOP$\n    $WD$\n    acc = st.setdefault('G', np.zeros_like(p))\n    acc += np.square(g)\n    denom = np.sqrt(acc) + self.eps\n    $UPDATE(self.lr * g / denom)$",
        "for p, g, s in zip(self.params, grads, self.state):\n    if self.weight_decay:\n        g = g + self.weight_decay * p\n    s['sq'] = s.get('sq', 0) + g ** 2\n    p -= self.lr / (s['sq'] ** 0.5 + self.eps) * g",
    ],
    "Adadelta.step": [
        "$LOOP$\n    $WD$\n    if not st:\n        st['v'] = np.zeros_like(p)\n        st['u'] = np.zeros_like(p)\n    st['v'] = self.rho * st['v'] + (1 - self.rho) * g * g\n    delta = np.sqrt(st['u'] + self.eps) / np.sqrt(st['v'] + self.eps) * g\n    st['u'] = self.rho * st['u'] + (1 - self.rho) * delta * delta\n    $UPDATE(self.lr * delta)$",
        "rho, eps = self.rho, self.eps\n$LOOP$\n    $WD$\n    sq_avg = st.setdefault('square_avg', np.zeros_like(p))\n    acc_delta = st.setdefault('acc_delta', np.zeros_like(p))\n    sq_avg *= rho\n    sq_avg += (1 - rho) * np.square(g)\n    update = np.sqrt(acc_delta + eps) / np.sqrt(sq_avg + eps) * g\n    acc_delta *= rho\n    acc_delta += (1 - rho) * np.square(update)\n    $UPDATE(self.lr * update)$",
        "for i, p in enumerate(self.params):\n    g = grads[i] + self.weight_decay * p\n    s = self.state[i]\n    Eg = s.get('Eg2', np.zeros_like(p))\n    Ex = s.get('Edx2', np.zeros_like(p))\n    Eg = self.rho * Eg + (1.0 - self.rho) * g ** 2\n    dx = (Ex + self.eps) ** 0.5 / (Eg + self.eps) ** 0.5 * g\n    Ex = self.rho * Ex + (1.0 - self.rho) * dx ** 2\n    s['Eg2'], s['Edx2'] = Eg, Ex\n    p -= self.lr * dx",
    ],
    "RMSprop.step": [
        "$LOOP$\n    $WD$\n    if 'v' not in st:\n        st['v'] = np.zeros_like(p)\n    st['v'] = self.alpha * st['v'] + (1 - self.alpha) * g ** 2\n    $UPDATE(self.lr * g / (np.sqrt(st['v']) + self.eps))$",
        "a = self.alpha\n$LOOP$\n    $WD$\n    sq = st.setdefault('square_avg', np.zeros_like(p))\n    sq *= a\n    sq += (1.0 - a) * g * g\n    $UPDATE(self.lr * g / (np.sqrt(sq) + self.eps))$",
        "for p, g, s in zip(self.params, grads, self.state):\n    g = g + self.weight_decay * p\n    ms = s.get('ms')\n    ms = (1 - self.alpha) * g ** 2 if ms is None else self.alpha * ms + (1 - self.alpha) * g ** 2\n    s['ms'] = ms\n    p -= self.lr * g / (ms ** 0.5 + self.eps)",
    ],
    "Adam.step": [
        "b1, b2 = self.betas\n$LOOP$\n    if not st:\n        st['t'] = 0\n        st['m'] = np.zeros_like(p)\n        st['v'] = np.zeros_like(p)\n    st['t'] += 1\n    $WD$\n    st['m'] = b1 * st['m'] + (1 - b1) * g\n    st['v'] = b2 * st['v'] + (1 - b2) * g * g\n    m_hat = st['m'] / (1 - b1 ** st['t'])\n    denom = np.sqrt(st['v']) / np.sqrt(1 - b2 ** st['t']) + self.eps\n    $UPDATE(self.lr * m_hat / denom)$",
        "beta1, beta2 = self.betas\n$LOOP$\n    $WD$\n    t = st.get('step', 0) + 1\n    m = st.get('exp_avg', np.zeros_like(p))\n    v = st.get('exp_avg_sq', np.zeros_like(p))\n    m = beta1 * m + (1 - beta1) * g\n    v = beta2 * v + (1 - beta2) * np.square(g)\n    st.update(step=t, exp_avg=m, exp_avg_sq=v)\n    bc1 = 1 - beta1 ** t\n    bc2 = 1 - beta2 ** t\n    $UPDATE(self.lr / bc1 * m / (np.sqrt(v) / math.sqrt(bc2) + self.eps))$",
        "for i in range(len(self.params)):\n    p = self.params[i]\n    g = grads[i]\n    s = self.state[i]\n    s['n'] = s.get('n', 0) + 1\n    if self.weight_decay:\n        g = g + self.weight_decay * p\n    s['m1'] = self.betas[0] * s.get('m1', 0.0) + (1 - self.betas[0]) * g\n    s['m2'] = self.betas[1] * s.get('m2', 0.0) + (1 - self.betas[1]) * g * g\n    corr1 = 1 - self.betas[0] ** s['n']\n    corr2 = 1 - self.betas[1] ** s['n']\n    p -= self.lr * (s['m1'] / corr1) / (np.sqrt(s['m2'] / corr2) + self.eps)",
    ],
    "AdamW.step": [
        "b1, b2 = self.betas\n$LOOP$\n    p *= 1 - self.lr * self.weight_decay\n    if not st:\n        st['t'] = 0\n        st['m'] = np.zeros_like(p)\n        st['v'] = np.zeros_like(p)\n    st['t'] += 1\n    st['m'] = b1 * st['m'] + (1 - b1) * g\n    st['v'] = b2 * st['v'] + (1 - b2) * g * g\n    m_hat = st['m'] / (1 - b1 ** st['t'])\n    denom = np.sqrt(st['v']) / np.sqrt(1 - b2 ** st['t']) + self.eps\n    $UPDATE(self.lr * m_hat / denom)$",
        "beta1, beta2 = self.betas\nfor p, g, st in zip(self.params, grads, self.state):\n    p[...] = p * (1.0 - self.lr * self.weight_decay)\n    st['step'] = st.get('step', 0) + 1\n    st['exp_avg'] = beta1 * st.get('exp_avg', 0.0) + (1 - beta1) * g\n    st['exp_avg_sq'] = beta2 * st.get('exp_avg_sq', 0.0) + (1 - beta2) * g ** 2\n    t = st['step']\n    step_size = self.lr / (1 - beta1 ** t)\n    denom = np.sqrt(st['exp_avg_sq']) / np.sqrt(1 - beta2 ** t) + self.eps\n    p -= step_size * st['exp_avg'] / denom",
        "decay = 1.0 - self.lr * self.weight_decay\nfor i, p in enumerate(self.params):\n    np.multiply(p, decay, out=p)\n    s = self.state[i]\n    if 'k' not in s:\n        s.update(k=0, m=np.zeros_like(p), v=np.zeros_like(p))\n    s['k'] += 1\n    s['m'] += (1 - self.betas[0]) * (grads[i] - s['m'])\n    s['v'] += (1 - self.betas[1]) * (grads[i] ** 2 - s['v'])\n    mh = s['m'] / (1 - self.betas[0] ** s['k'])\n    vh = s['v'] / (1 - self.betas[1] ** s['k'])\n    p -= self.lr * mh / (np.sqrt(vh) + self.eps)",
    ],
    "step_decay": [
        "k = sum(1 for m in milestones if epoch >= m * total_epochs)\nreturn float(base_lr * gamma ** k)",
        "lr = base_lr\nfor m in milestones:\n    if epoch >= m * total_epochs:\n        lr *= gamma\nreturn float(lr)",
        "passed = [m for m in milestones if epoch >= m * total_epochs]\nreturn base_lr * (gamma ** len(passed))",
        "count = 0\nfor frac in sorted(milestones):\n    if epoch < frac * total_epochs:\n        break\n    count += 1\nreturn float(base_lr) * float(gamma) ** count",
    ],
    "minimize": [
        "x = np.array(x0, dtype=np.float64, copy=True)\nopt = make_optimizer([x])\ntraj = [x.copy()]\nfor _ in range(steps):\n    _, g = f_and_grad(x)\n    opt.step([g])\n    traj.append(x.copy())\nreturn np.stack(traj)",
        "x = x0.astype(np.float64).copy()\noptimizer = make_optimizer([x])\nout = np.empty((steps + 1, x.size))\nout[0] = x\nfor t in range(1, steps + 1):\n    grad = f_and_grad(x)[1]\n    optimizer.step([np.asarray(grad, dtype=np.float64)])\n    out[t] = x\nreturn out",
        "x = np.copy(x0).astype(float)\nopt = make_optimizer([x])\nhistory = np.zeros((steps + 1, len(x0)))\nhistory[0, :] = x0\ni = 0\nwhile i < steps:\n    f, g = f_and_grad(x)\n    opt.step([g])\n    i += 1\n    history[i, :] = x\nreturn history",
    ],
}

IMPLEMENTATIONS = {"losses": LOSSES, "optimizers": OPTIMIZERS}

COMMENTS = ["# vectorised over the batch", "# keep it numerically stable", "# per-sample then mean",
            "# TODO: check the shapes again", "# in place so the caller sees it",
            "# matches the formula in the lecture", "# first step initialises the state",
            "# see the docstring", "# works for (N,) and (N, D)", "# avoid overflow"]


@dataclass
class Student:
    """One submission and its label."""

    student: str
    assignment: str
    text: str
    kind: str  # "honest", "copy", "partial", "leak"
    source: str | None = None  # the classmate copied from ("reference" for a leak)
    disguises: tuple[str, ...] = ()
    cluster: str = ""  # students of one cluster share copied code
    also_from: str | None = None  # a second classmate a function or two came from

    def __post_init__(self) -> None:
        self.cluster = self.cluster or self.student


@dataclass
class Corpus:
    students: list[Student] = field(default_factory=list)

    def by_assignment(self, assignment: str) -> list[Student]:
        return [s for s in self.students if s.assignment == assignment]

    def write(self, root: Path) -> None:
        """`root/<student>/<assignment>.py`, the exchange layout grade-batch reads."""
        for s in self.students:
            folder = root / s.student
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{s.assignment}.py").write_text(s.text, encoding="utf-8")


# ---------------------------------------------------------------- writing an honest solution


def stub_text(assignment: str) -> str:
    return (ROOT / "assignments" / f"{assignment}.py").read_text(encoding="utf-8")


def _targets(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    """Every function of the stub whose body is `raise NotImplementedError`, by qualified name."""
    found: dict[str, ast.FunctionDef] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{node.name}.")
            elif isinstance(node, ast.FunctionDef):
                last = node.body[-1]
                if isinstance(last, ast.Raise) and "NotImplementedError" in ast.unparse(last) \
                        and "each optimizer" not in ast.unparse(last):
                    found[prefix + node.name] = node

    visit(tree.body, "")
    return found


def fill_stub(assignment: str, bodies: dict[str, str], keep_docstrings: bool = True) -> str:
    """The stub with each `raise NotImplementedError` replaced by its body."""
    stub = stub_text(assignment)
    lines = stub.split("\n")
    tree = ast.parse(stub)
    edits = []
    for name, node in _targets(tree).items():
        if name not in bodies:
            continue
        raise_node = node.body[-1]
        indent = " " * raise_node.col_offset
        first = raise_node.lineno - 1
        if not keep_docstrings and len(node.body) > 1 and isinstance(node.body[0], ast.Expr):
            first = node.body[0].lineno - 1
        edits.append((first, raise_node.end_lineno, textwrap.indent(bodies[name], indent)))
    for first, last, body in sorted(edits, reverse=True):
        lines[first:last] = body.split("\n")
    text = "\n".join(lines)
    if "math." in text and "import math" not in text:
        text = text.replace("import numpy as np", "import math\n\nimport numpy as np", 1)
    return text


def _expand(template: str, habits: dict[str, str], rng: random.Random) -> str:
    """Resolve the choice points `«a||b»` and the student's habits `$NAME(arg)$`."""
    text = re.sub(r"«(.+?)»", lambda m: rng.choice(m.group(1).split("||")), template)
    out = []
    for line in text.split("\n"):
        indent = line[: len(line) - len(line.lstrip())]
        block = re.fullmatch(r"\$(LOOP|WD)\$", line.strip())
        if block:
            out.extend(indent + row for row in habits[block.group(1)].split("\n"))
            continue
        out.append(_inline_habits(line, habits))
    return "\n".join(out)


def _inline_habits(line: str, habits: dict[str, str]) -> str:
    for _ in range(4):  # habits nest: $FLOAT(... $N(pred)$)$
        new = re.sub(r"\$N\((\w+)\)\$?", lambda m: habits["N"].format(x=m.group(1)), line)
        new = re.sub(r"\$FLOAT\(([^$]+)\)\$", lambda m: habits["FLOAT"].format(e=m.group(1)), new)
        new = re.sub(r"\$UPDATE\(([^$]+)\)\$", lambda m: habits["UPDATE"].format(e=m.group(1)), new)
        if new == line:
            break
        line = new
    return line


def _everyday(body: str, habits: dict[str, str]) -> str:
    """The student's own way with zeros, copies, squares and hyperparameters."""
    body = re.sub(r"np\.zeros_like\(p\)", habits["ZEROS"], body)
    body = body.replace("g.copy()", habits["COPY"])
    body = re.sub(r"\bg \* g\b|\bg \*\* 2\b|np\.square\(g\)", habits["SQUARE"], body)
    local = habits["LOCALS"]
    if local and "self.lr" in body and "lr =" not in body:
        body = body.replace("self.lr", "lr")
        if "wd" in local:
            body = body.replace("self.weight_decay", "wd")
        body = local + "\n" + body
    return body


def _comment(body: str, rng: random.Random, rate: float) -> str:
    """Sprinkle the student's own comments and blank lines over a function body."""
    out = []
    for line in body.split("\n"):
        indent = line[: len(line) - len(line.lstrip())]
        if line.strip() and rng.random() < rate:
            out.append(indent + rng.choice(COMMENTS))
        out.append(line)
        if rng.random() < rate / 3 and not line.rstrip().endswith(":"):
            out.append("")
    return "\n".join(out)


def honest(assignment: str, name: str, rng: random.Random) -> Student:
    habits = {key: rng.choice(options) for key, options in HABITS.items()}
    comment_rate = rng.choice([0.0, 0.1, 0.3])
    bodies = {}
    for func, variants in IMPLEMENTATIONS[assignment].items():
        body = _everyday(_expand(rng.choice(variants), habits, rng), habits)
        bodies[func] = _comment(body, rng, comment_rate)
    return Student(name, assignment, fill_stub(assignment, bodies, keep_docstrings=rng.random() < 0.7),
                   "honest")


def reference_filled(assignment: str) -> str:
    """The hidden reference, as a student who got hold of it would hand it in."""
    return (ROOT / "reference" / f"{assignment}.py").read_text(encoding="utf-8")


# ---------------------------------------------------------------- disguises


def disguise(text: str, which: tuple[str, ...], rng: random.Random) -> str:
    for d in TEXT_DISGUISES:  # a fixed order
        if d in which:
            text = globals()[f"_{d}"](text, rng)
    return text


def _rename(text: str, rng: random.Random) -> str:
    """Rename every local variable and loop variable the author chose."""
    tree = ast.parse(text)
    params: set[str] = set()
    stored: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.Lambda)):
            params.update(a.arg for a in (*node.args.args, *node.args.kwonlyargs))
        if isinstance(node, ast.FunctionDef):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    stored.add(sub.id)
    defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    names = sorted(stored - params - defined - {"self"})  # renaming a method would break the program
    prefix = rng.choice(["my_", "tmp_", "val_", "x_", "the_"])
    mapping = {n: f"{prefix}{n}{rng.randint(0, 9)}" for n in names}
    if not mapping:
        return text
    pattern = re.compile(r"(?<![\w.'\"])(" + "|".join(map(re.escape, names)) + r")(?![\w'\"])")
    return pattern.sub(lambda m: mapping[m.group(1)], text)


def _blocks(text: str) -> tuple[list[str], list[list[str]], list[str]]:
    """(head, top-level definitions with their comments, tail) of a module."""
    tree = ast.parse(text)
    lines = text.split("\n")
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    if not defs:
        return lines, [], []
    starts = [min([n.lineno, *(d.lineno for d in n.decorator_list)]) - 1 for n in defs]
    head = lines[: starts[0]]
    blocks = []
    for i, node in enumerate(defs):
        end = starts[i + 1] if i + 1 < len(defs) else node.end_lineno
        blocks.append(lines[starts[i]:end])
    return head, blocks, lines[defs[-1].end_lineno:]


def _reorder(text: str, rng: random.Random) -> str:
    """Shuffle the top-level functions and classes (a base class stays first)."""
    head, blocks, tail = _blocks(text)
    fixed = [b for b in blocks if b and b[0].startswith("class Optimizer")]
    movable = [b for b in blocks if b not in fixed]
    rng.shuffle(movable)
    return "\n".join(head + [row for b in fixed + movable for row in b] + tail)


def _comments(text: str, rng: random.Random) -> str:
    """Drop every comment and docstring line pattern, then add other comments and blank lines."""
    out = []
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith("#"):
            continue
        if "  #" in line:
            line = line.split("  #")[0].rstrip()
        indent = line[: len(line) - len(line.lstrip())]
        if stripped and rng.random() < 0.15:
            out.append(indent + rng.choice(COMMENTS).replace("#", "# NOTE:"))
        out.append(line)
        if not stripped and rng.random() < 0.5:
            continue  # blank lines dropped
        if rng.random() < 0.08 and not stripped.endswith(":"):
            out.append("")
    return "\n".join(out)


_APPEND_LOOP = re.compile(
    r"^(?P<i>[ \t]*)(?P<v>\w+) = \[\]\n(?P=i)for (?P<t>[\w, ()]+) in (?P<it>.+):\n"
    r"(?P=i)[ \t]+(?P=v)\.append\((?P<e>.+)\)$", re.M)
_LISTCOMP = re.compile(r"^(?P<i>[ \t]*)(?P<v>\w+) = \[(?P<e>[^\[\]]+) for (?P<t>[\w, ()]+) in (?P<it>[^\[\]]+)\]$", re.M)
_SUMGEN = re.compile(r"^(?P<i>[ \t]*)(?P<v>\w+) = sum\(1 for (?P<t>\w+) in (?P<it>\w+) if (?P<c>.+)\)$", re.M)


def _loops(text: str, rng: random.Random) -> str:
    """Rewrite comprehensions as loops and append-loops as comprehensions."""
    text = _LISTCOMP.sub(lambda m: f"{m['i']}{m['v']} = []\n{m['i']}for {m['t']} in {m['it']}:\n"
                                   f"{m['i']}    {m['v']}.append({m['e']})", text)
    text = _APPEND_LOOP.sub(lambda m: f"{m['i']}{m['v']} = [{m['e']} for {m['t']} in {m['it']}]", text)
    text = _SUMGEN.sub(lambda m: f"{m['i']}{m['v']} = 0\n{m['i']}for {m['t']} in {m['it']}:\n"
                                 f"{m['i']}    if {m['c']}:\n{m['i']}        {m['v']} += 1", text)
    # `for i in range(len(xs)):` loops over the parameters become zip loops and back
    text = re.sub(r"^( *)for p, g, st in zip\(self\.params, grads, self\.state\):$",
                  lambda m: f"{m[1]}for i in range(len(self.params)):\n"
                            f"{m[1]}    p, g, st = self.params[i], grads[i], self.state[i]", text, flags=re.M)
    return text


DEAD_CODE = [
    "_DEBUG = False\n",
    "def _check_shapes(a, b):\n    if a.shape != b.shape:\n        raise ValueError('shape mismatch')\n    return True\n",
    "def _unused_helper(values):\n    out = []\n    for v in values:\n        out.append(v * 2)\n    return out\n",
    "EPS = 1e-12\n",
    "def _debug_print(*args):\n    if _DEBUG:\n        print(*args)\n",
]


def _deadcode(text: str, rng: random.Random) -> str:
    """Insert helpers that are never called and statements that do nothing."""
    head, blocks, tail = _blocks(text)
    for snippet in rng.sample(DEAD_CODE, 3):
        blocks.insert(rng.randrange(len(blocks) + 1), ["", *snippet.split("\n"), ""])
    lines = [row for b in blocks for row in b]
    out = []
    for i, line in enumerate(lines):
        out.append(line)
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        indent = nxt[: len(nxt) - len(nxt.lstrip())]
        if (len(indent) >= 8 and line.strip() and not line.lstrip().startswith("#") and not line.rstrip().endswith((":", ",", "(", "\\"))
                and line.startswith(indent) and not line.startswith(indent + " ")
                and not nxt.lstrip().startswith(("else", "elif", "except", "finally", ")"))
                and rng.random() < 0.12):
            out.append(indent + rng.choice(["_ = None", "pass", "_unused = 0", "if _DEBUG:", "assert True"]))
            if out[-1].endswith(":"):
                out.append(indent + "    print('debug')")
    return "\n".join(head + ["_DEBUG = False", ""] + out + tail)


# ---------------------------------------------------------------- the class


def partial_copy(own: Student, source: Student, rng: random.Random, n: int) -> str:
    """`own` with n functions taken from `source` (the same functions of the stub)."""
    own_head, own_blocks, own_tail = _blocks(own.text)
    _, src_blocks, _ = _blocks(source.text)
    src_by_name = {_block_name(b): b for b in src_blocks}
    candidates = [i for i, b in enumerate(own_blocks)
                  if _block_name(b) in src_by_name and "NotImplementedError" not in "\n".join(src_by_name[_block_name(b)])
                  and _block_name(b) != "Optimizer" and len(src_by_name[_block_name(b)]) > 8]
    for i in rng.sample(candidates, min(n, len(candidates))):
        own_blocks[i] = src_by_name[_block_name(own_blocks[i])]
    return "\n".join(own_head + [row for b in own_blocks for row in b] + own_tail)


def _block_name(block: list[str]) -> str:
    for line in block:
        m = re.match(r"(?:def|class) (\w+)", line)
        if m:
            return m.group(1)
    return ""


def make_corpus(students_per_assignment: int = 150, seed: int = 0, copy_share: float = 0.12,
                partial_share: float = 0.04, leaks: int = 2) -> Corpus:
    """A class per assignment: mostly honest, some disguised copies, partial copies, leaks."""
    rng = random.Random(seed)
    corpus = Corpus()
    for assignment in ASSIGNMENTS:
        n_copies = round(students_per_assignment * copy_share)
        n_partial = round(students_per_assignment * partial_share)
        n_honest = students_per_assignment - n_copies - n_partial - leaks
        honest_ones = [honest(assignment, f"s{i:03d}", rng) for i in range(n_honest)]
        corpus.students.extend(honest_ones)
        number = n_honest
        for j in range(n_copies):
            source = rng.choice(honest_ones[: max(1, n_honest // 2)])
            k = 1 if j % 5 == 0 else rng.randint(2, 4)
            which = tuple(rng.sample(DISGUISES, k))
            text, second = source.text, None
            if "classmate" in which:  # mixed in before the disguises, as a copier would
                second = rng.choice([s for s in honest_ones if s is not source])
                text = partial_copy(Student("", assignment, text, "copy"), second, rng, rng.randint(1, 2))
            text = disguise(text, which, rng)
            corpus.students.append(Student(f"s{number:03d}", assignment, text, "copy", source.student,
                                           which, also_from=second.student if second else None,
                                           cluster=source.cluster))
            number += 1
        for _ in range(n_partial):
            base = honest(assignment, f"s{number:03d}", rng)
            source = rng.choice(honest_ones)
            text = partial_copy(base, source, rng, rng.randint(1, 2))
            which = tuple(rng.sample(["rename", "comments"], 1))
            corpus.students.append(Student(base.student, assignment, disguise(text, which, rng),
                                           "partial", source.student, ("classmate", *which)))
            number += 1
        for _ in range(leaks):
            which = tuple(rng.sample(TEXT_DISGUISES, 2))
            text = disguise(reference_filled(assignment), which, rng)
            corpus.students.append(Student(f"s{number:03d}", assignment, text, "leak", "reference",
                                           which, cluster="reference"))
            number += 1
    return corpus


def is_copy_pair(a: Student, b: Student) -> bool:
    """Two submissions share copied code: the same cluster, or one took functions from the other."""
    if a.cluster == b.cluster:
        return True
    return (a.kind == "partial" and a.source == b.student) or (b.kind == "partial" and b.source == a.student) \
        or a.also_from == b.student or b.also_from == a.student


def main() -> None:
    """`similarity_corpus.py [OUT]`: write a labelled class to OUT (or just count one)."""
    import argparse
    from collections import Counter

    parser = argparse.ArgumentParser(description="Write a labelled class for dlgrade similarity.")
    parser.add_argument("out", nargs="?", type=Path, help="exchange folder to write (omit: count only)")
    parser.add_argument("--per-assignment", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    corpus = make_corpus(args.per_assignment, seed=args.seed)
    counts = Counter((s.assignment, s.kind) for s in corpus.students)
    print(", ".join(f"{a} {k}: {n}" for (a, k), n in sorted(counts.items())))
    if args.out is not None:
        corpus.write(args.out)
        print(f"written to {args.out}: dlgrade similarity {args.out} --report REPORT_DIR")


if __name__ == "__main__":
    main()
