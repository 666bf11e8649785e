"""jaxgp's measurements, run from the checkout as modules (`python -m benchmarks.micro.throughput`).

- `lib/`: shared measuring (one training row compiled once, FLOPs, trace summaries), the
  provenance written with every result, and the options every script shares (`lib.args`).
- `gpu/`: the GPU run (`python3 benchmarks/gpu_run.py`, RESULTS.md section 6) and the
  deviceless compile for a GPU target (`gpu.compile`, section 9).
- `vs_keras/`: jaxgp against the thesis's Keras way (`vs_keras.compare`); the reference runs
  in another Python by file path and imports neither jaxgp nor this package.
- `micro/`: one part of training timed on its own (throughput, step, interpreter, ops).
- `studies/`: one-off questions, each answered in the RESULTS.md section it names.

README.md lists every script with its RESULTS.md section; RESULTS.md holds the numbers.
"""
