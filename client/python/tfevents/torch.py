"""tfevents.torch.SummaryWriter: tfevents.SummaryWriter with the run names
of torch.utils.tensorboard for add_scalars() (<main_tag>_<tag>, slashes of
main_tag replaced by underscores) instead of tensorboardX's
(<main_tag>/<tag>). Does not need torch.

    from tfevents.torch import SummaryWriter   # was: from torch.utils.tensorboard import ...
"""

from .writer import SummaryWriter as _Base

__all__ = ["SummaryWriter"]


class SummaryWriter(_Base):
    __doc__ = _Base.__doc__

    def _scalars_run(self, main_tag, tag):
        return main_tag.replace("/", "_") + "_" + tag
