"""One part of training timed on its own: throughput per K, a step's parts, the interpreter,
convolutions in a loop, op-by-op profiles."""
