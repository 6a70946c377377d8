"""tfevents.tensorboardX.SummaryWriter: the same as tfevents.SummaryWriter
(tensorboardX's run names for add_scalars), for symmetry with
tfevents.torch.

    from tfevents.tensorboardX import SummaryWriter   # was: from tensorboardX import ...
"""

from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
