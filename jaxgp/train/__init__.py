"""The batched trainer: K candidate losses trained at once, one compiled epoch per shape."""

from jaxgp.train.config import TrainConfig
from jaxgp.train.device_data import DeviceDataset
from jaxgp.train.loop import train_candidates
from jaxgp.train.results import CandidateResult, EpochRecord, TrainReport

__all__ = [
    "CandidateResult",
    "DeviceDataset",
    "EpochRecord",
    "TrainConfig",
    "TrainReport",
    "train_candidates",
]
