"""Benchmark: one convolution's gradient, called from Python against inside a `fori_loop`.

The reason jaxgp's epoch is a host loop on a CPU: XLA's CPU backend rewrites convolutions
to the form its fast kernels take only outside loop bodies (jax-ml/jax#12868), so a
gradient step inside a `scan` or `fori_loop` runs a naive loop nest instead. This script
times `--steps` gradient steps of one 3x3 convolution both ways and prints the forms of
the convolutions XLA compiled (`dim_labels`) for each. `--conv canonical` writes the
gradient as jaxgp does on a CPU (`jaxgp.models.conv`: NHWC/HWIO convolutions around
transposes), which XLA compiles to its fast form inside the loop too.

    python -m benchmarks.micro.conv_in_loop                    # NHWC 64x32x32x16 -> 32 channels
    python -m benchmarks.micro.conv_in_loop --conv canonical   # the same with jaxgp's gradient
"""

from __future__ import annotations

import argparse
import json
import re
import time

import jax
import jax.numpy as jnp

from jaxgp.models.conv import CONV_FORMS, conv_function


def gradient_steps(conv: str, shape: tuple[int, int, int, int, int], steps: int):
    """A gradient step of one 3x3 convolution of `shape` (batch, size, size, in, out) with
    the gradient in form `conv`, jitted alone and `steps` of it jitted inside a `fori_loop`;
    and the weights they start from."""
    batch, size, _, c_in, c_out = shape
    convolution = conv_function(conv)
    x = jnp.ones((batch, size, size, c_in))
    w0 = jnp.full((3, 3, c_in, c_out), 0.01)

    def loss(w):
        y = convolution(x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return jnp.sum(y**2)

    def step(w):
        return w - 1e-6 * jax.grad(loss)(w)

    one_step = jax.jit(step)
    in_loop = jax.jit(lambda w: jax.lax.fori_loop(0, steps, lambda _, w: step(w), w))
    return one_step, in_loop, w0


def convolution_forms(jitted, w0) -> list[str]:
    """The `dim_labels` of the convolutions XLA compiled `jitted` to."""
    text = jitted.lower(w0).compile().as_text()
    return sorted(set(re.findall(r" convolution\(.*?dim_labels=([^,\s]+)", text)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--channels", default="16,32", help="in,out")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--conv", choices=CONV_FORMS, default="xla", help="the gradient's form")
    args = parser.parse_args()
    c_in, c_out = (int(c) for c in args.channels.split(","))
    shape = (args.batch, args.size, args.size, c_in, c_out)
    one_step, in_loop, w0 = gradient_steps(args.conv, shape, args.steps)

    def from_python(w):
        for _ in range(args.steps):
            w = one_step(w)
        return w

    def best_of(fn, repeats=3):
        jax.block_until_ready(fn(w0))
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            jax.block_until_ready(fn(w0))
            times.append(time.perf_counter() - start)
        return min(times)

    report = {
        "device": f"{jax.devices()[0].device_kind} ({jax.default_backend()})",
        "shape": list(shape),
        "conv": args.conv,
        "steps": args.steps,
        "python_loop_s": best_of(from_python),
        "fori_loop_s": best_of(in_loop),
        "python_loop_forms": convolution_forms(one_step, w0),
        "fori_loop_forms": convolution_forms(in_loop, w0),
    }
    report["slowdown"] = report["fori_loop_s"] / report["python_loop_s"]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
