"""The R package's API in Python: log_event() with nested dicts as runs,
a default logdir (get/set and a `with logdir(...)` scope), one global step
per logdir, hparams."""

import contextlib
import threading
import time

from ._client import default_client
from ._values import flatten_values

_state = threading.local()
_DEFAULT_LOGDIR = "logs"
_global_default = [_DEFAULT_LOGDIR]


def _stack():
    s = getattr(_state, "stack", None)
    if s is None:
        s = _state.stack = []
    return s


def get_default_logdir():
    """The logdir used when a call names none: the innermost `with
    logdir(...)` of this thread, else the one set by set_default_logdir()
    ("logs" at first)."""
    s = _stack()
    return s[-1] if s else _global_default[0]


def set_default_logdir(path="logs"):
    """Set the default logdir (for every thread); returns the previous one."""
    old = _global_default[0]
    _global_default[0] = str(path)
    return old


@contextlib.contextmanager
def logdir(path):
    """with tfevents.logdir("logs/run1"): ...  -- the default logdir inside
    the block (this thread)."""
    s = _stack()
    s.append(str(path))
    try:
        yield path
    finally:
        s.pop()


def _route(logdir_, client):
    return (client or default_client()).route(logdir_ if logdir_ is not None
                                              else get_default_logdir())


def log_event(*args, step=None, logdir=None, wall_time=None, client=None, **values):
    """Log values at one step: numbers are scalars, strings text, dicts
    runs (subdirectories), summary_*() values typed. A dict may also be
    given as the only positional argument.

    step: None for the logdir's next step (the first call logs at 0, one
    step per call however many values), an int, or "current" (the
    counter's step, not advancing it). wall_time: seconds since 1970
    (default now). Returns nothing; refusals are raised by flush()."""
    if args:
        if len(args) != 1 or not isinstance(args[0], dict):
            raise TypeError("log_event takes one dict positionally, or names=values")
        values = dict(args[0], **values)
    if not values:
        raise ValueError("log_event needs at least one value")
    items = flatten_values(values)
    if step is not None and step != "current":
        step = int(step)
        if step < 0:
            raise ValueError("steps are >= 0")
    rt = _route(logdir, client)
    if len(items) == 1 and items[0][2].kind == "scalar" and items[0][2].display_name is None \
            and items[0][2].description is None:
        run, tag, s = items[0]
        rt.log_scalar(run, tag, s.data["value"], step, wall_time)
    else:
        rt.log(items, step, wall_time)


def get_global_step(logdir=None, client=None):
    """The logdir's step counter: the step of the last log without an
    explicit step (-1 before the first; resumed from existing files)."""
    rt = _route(logdir, client)
    return rt.sink.get_step(rt.name)


def set_global_step(step, logdir=None, client=None):
    """The next log without a step logs at step + 1 (-1 starts over at 0)."""
    rt = _route(logdir, client)
    rt.sink.set_step(rt.name, int(step))


def restart(step, logdir=None, run=None, client=None):
    """Resume at step (TensorBoard drops the run's points from step on):
    writes SessionLog START into run (None: every known run)."""
    rt = _route(logdir, client)
    rt.sink.restart(rt.name, int(step), run)


def flush(sync=False, client=None):
    """Wait until everything logged is in the files; raises RefusedError
    with what was refused since the last flush."""
    (client or default_client()).flush(sync)


def close_files(logdir=None, sync=False, client=None):
    """Flush, then close the logdir's event files (the next value opens
    new ones)."""
    rt = _route(logdir, client)
    rt.sink.flush(rt.name, sync, close=True)


# ---- hparams ----------------------------------------------------------------

class HParam:
    """A hyperparameter of the experiment (hparams_hparam())."""

    def __init__(self, name, domain=None, display_name=None, description=None):
        self.name = name
        self.display_name = display_name
        self.description = description
        self.values = None
        self.interval = None
        if isinstance(domain, dict):
            lo = domain.get("min", domain.get("min_value"))
            hi = domain.get("max", domain.get("max_value"))
            if lo is None or hi is None:
                raise ValueError("an interval domain is {'min': x, 'max': y}")
            self.interval = (float(lo), float(hi))
        elif domain is not None:
            self.values = list(domain)

    def type_code(self):
        if self.interval is not None:
            return 3
        if not self.values:
            return 0
        if all(isinstance(v, bool) for v in self.values):
            return 2
        if all(isinstance(v, str) for v in self.values):
            return 1
        return 3

    def __repr__(self):
        return "HParam(%r)" % self.name


class Metric:
    """A metric of the experiment (hparams_metric()): the scalars of tag
    in run '<session run>/<group>'."""

    def __init__(self, tag, group=None, display_name=None, description=None,
                 dataset_type=None):
        self.tag = tag
        self.group = group
        self.display_name = display_name
        self.description = description
        if dataset_type not in (None, "training", "validation"):
            raise ValueError("dataset_type is 'training', 'validation' or None")
        self.dataset_type = dataset_type

    def dataset_code(self):
        return {None: 0, "training": 1, "validation": 2}[self.dataset_type]

    def __repr__(self):
        return "Metric(%r)" % self.tag


def hparams_hparam(name, domain=None, display_name=None, description=None):
    """domain: a list of values (discrete) or {'min': x, 'max': y}."""
    return HParam(name, domain, display_name, description)


def hparams_metric(tag, group=None, display_name=None, description=None, dataset_type=None):
    return Metric(tag, group, display_name, description, dataset_type)


def log_hparams_config(hparams, metrics=(), logdir=None, run=None, client=None):
    """The experiment: which hparams and metrics the HPARAMS tab shows
    (tag _hparams_/experiment, at step 0)."""
    hps = [h if isinstance(h, HParam) else HParam(h) for h in hparams]
    ms = [m if isinstance(m, Metric) else Metric(m) for m in metrics]
    rt = _route(logdir, client)
    rt.sink.hparams_config(rt.name, run, hps, ms)


def log_hparams(hparams=None, logdir=None, run=None, group_name=None, client=None, **kw):
    """A session's hyperparameters (a dict, or names=values): numbers,
    strings, booleans. group_name None gives TensorBoard's default."""
    hp = dict(hparams or {}, **kw)
    for k, v in hp.items():
        if not isinstance(v, (bool, int, float, str)):
            if hasattr(v, "item"):
                hp[k] = v.item()
            else:
                raise TypeError("hparam %r: a number, a string or a boolean, not %s"
                                % (k, type(v).__name__))
    rt = _route(logdir, client)
    rt.sink.session_start(rt.name, run, hp, group_name)


_STATUS = {"unknown": 0, "success": 1, "failure": 2, "running": 3}


def log_session_end(status="success", logdir=None, run=None, client=None):
    """End a session: status success, failure, running or unknown."""
    rt = _route(logdir, client)
    rt.sink.session_end(rt.name, run, _STATUS[status])


def get_wall_time():
    return time.time()
