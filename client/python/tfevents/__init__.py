"""tfevents: log to TensorBoard through tfeventsd (or in-process through
libtfevents), and read logdirs back. Standard library only; numpy, PIL,
torch, matplotlib and pandas are used when installed.

    import tfevents
    tfevents.log_event(loss=0.25, train={"acc": 0.9})      # logdir "logs", next step
    with tfevents.logdir("logs/run1"):
        tfevents.log_event(hist=tfevents.summary_histogram(weights))
    tfevents.flush()

    from tfevents import SummaryWriter                     # torch / tensorboardX drop-in
"""

from ._api import (HParam, Metric, close_files, flush, get_default_logdir, get_global_step,
                   get_wall_time, hparams_hparam, hparams_metric, log_event, log_hparams,
                   log_hparams_config, log_session_end, logdir, restart, set_default_logdir,
                   set_global_step)
from ._client import Client, NoTransportError, RefusedError, default_client, set_default_client
from ._daemon import DaemonError, default_socket
from ._values import (Summary, summary_audio, summary_custom, summary_encoded,
                      summary_histogram, summary_image, summary_layout, summary_mesh,
                      summary_pr_curve,
                      summary_pr_curve_raw, summary_scalar, summary_text, summary_video)
from .reader import collect_events, events_logdir
from .writer import SummaryWriter

__version__ = "0.1.0"

__all__ = [
    "Client", "DaemonError", "HParam", "Metric", "NoTransportError", "RefusedError",
    "Summary", "SummaryWriter", "close_files", "collect_events", "default_client",
    "default_socket", "events_logdir", "flush", "get_default_logdir", "get_global_step",
    "get_wall_time", "hparams_hparam", "hparams_metric", "log_event", "log_hparams",
    "log_hparams_config", "log_session_end", "logdir", "restart", "set_default_client",
    "set_default_logdir", "set_global_step", "summary_audio", "summary_custom",
    "summary_encoded", "summary_histogram", "summary_image", "summary_layout", "summary_mesh",
    "summary_pr_curve", "summary_pr_curve_raw", "summary_scalar", "summary_text",
    "summary_video",
]
