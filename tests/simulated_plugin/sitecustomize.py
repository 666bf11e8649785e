"""Make this CPU answer like a GPU through the CUDA PJRT plugin, for the processes of a test.

On that plugin `Compiled.cost_analysis()` and `Compiled.memory_analysis()` give nothing and
`Lowered.cost_analysis()` refuses the backend, while the device's allocator keeps
statistics (here: the bytes of the live arrays and their peak, seen at each call). Put this
folder first on PYTHONPATH and every Python process started with it imports this first.
"""

import jax
import jax.stages
from jaxlib import _jax


def _none(self):
    return None


def _refuse(self):
    raise NotImplementedError("cost analysis is not supported on a PJRT C API backend")


_peak = [0]


def _memory_stats(self):
    in_use = sum(array.nbytes for array in jax.live_arrays())
    _peak[0] = max(_peak[0], in_use)
    return {"bytes_in_use": in_use, "peak_bytes_in_use": _peak[0], "bytes_limit": 8 << 30}


jax.stages.Compiled.cost_analysis = _none
jax.stages.Compiled.memory_analysis = _none
jax.stages.Lowered.cost_analysis = _refuse
_jax.Device.memory_stats = _memory_stats
