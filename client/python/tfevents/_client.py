"""Choosing the transport and naming logdirs, like libtfevents.

A logdir is a path (relative to the working directory when the call is
made). Through the daemon it is named by its place under the daemon's root
(the Hello frame tells the root; symbolic links of the existing part are
resolved first, as the daemon's root is a real path). In auto mode a
logdir outside the root is written in-process through libtfevents when
the library is there; in daemon mode it is an error.

Mode: the `mode` argument, else $TFEVENTS_MODE (daemon, embedded, auto),
else auto: the daemon when its socket answers, else libtfevents, else an
error that says how to start the daemon."""

import atexit
import os
import sys
import threading
import time
import weakref

from . import _wire as w
from ._daemon import DaemonSink, default_socket, unreachable_message
from ._embedded import EmbeddedSink, find_library


class RefusedError(RuntimeError):
    """Values the daemon (or libtfevents) refused: a step that did not
    increase for a tag, an invalid value, a limit. Raised by flush() and
    close() with every refusal since the last one (.errors)."""

    def __init__(self, errors):
        self.errors = list(errors)
        more = " (and %d more)" % (len(errors) - 1) if len(errors) > 1 else ""
        super().__init__("tfevents refused %d request(s): %s%s"
                         % (len(errors), errors[0], more))


class NoTransportError(ConnectionError):
    """Neither the daemon nor libtfevents can write this logdir."""


_now = time.time


class Route:
    """How one logdir is reached: its sink and its name there. For the
    daemon, the scalar templates of its tags are kept here."""

    __slots__ = ("sink", "name", "daemon", "templates", "texts", "path")

    def __init__(self, sink, name, path):
        self.sink = sink
        self.daemon = sink.mode == "daemon"
        self.name = name if self.daemon else name.encode("utf-8")
        self.templates = {}       # tag or (run, tag) -> ScalarTemplate
        self.texts = {}           # tag -> TextTemplate
        self.path = path

    def log_scalar(self, run, tag, value, step, wall):
        if self.daemon and step != "current":
            key = (run, tag)
            t = self.templates.get(key)
            if t is None:
                t = self.templates[key] = w.ScalarTemplate(self.name, run, tag)
            self.sink.put(t.entry(value, _now() if wall is None else wall, step))
        elif not self.daemon and wall is None and step != "current":
            self.sink.log_scalar(self.name, run.encode("utf-8"), tag.encode("utf-8"), value,
                                 step, None)
        else:
            from ._values import Summary
            self.sink.log(self.name, [(run, tag, Summary("scalar", {"value": value}))], step,
                          wall)

    def log(self, items, step, wall):
        self.sink.log(self.name, items, step, _now() if wall is None else wall)


class Client:
    """A connection to tfeventsd (or libtfevents in-process) shared by the
    functions of this package and by SummaryWriters."""

    def __init__(self, mode=None, socket_path=None, on_error=None, any_step=False):
        mode = mode or os.environ.get("TFEVENTS_MODE") or "auto"
        if mode not in ("auto", "daemon", "embedded"):
            raise ValueError("mode must be auto, daemon or embedded, not %r" % mode)
        self.mode = mode
        self.on_error = on_error
        self.any_step = any_step
        self.socket_path = socket_path or default_socket()
        self.daemon = None
        self.embedded = None
        self._routes = {}
        self._lock = threading.Lock()
        self._why_no_daemon = None
        if mode in ("auto", "daemon"):
            try:
                self.daemon = DaemonSink(self.socket_path, on_error=on_error)
            except OSError as e:
                self._why_no_daemon = unreachable_message(self.socket_path, e)
                if mode == "daemon":
                    raise NoTransportError(self._why_no_daemon) from e
        if self.daemon is None:
            self._embedded_sink()
        _live.add(self)

    def _embedded_sink(self):
        if self.embedded is None:
            lib = find_library()
            if lib is None:
                msg = self._why_no_daemon or "this logdir is outside the daemon's root"
                raise NoTransportError(
                    msg + "; and libtfevents (for writing in this process) was not found: "
                    "install it (`meson install` from a tfevents checkout) or set "
                    "TFEVENTS_LIBRARY to libtfevents.so")
            self.embedded = EmbeddedSink(lib, self.on_error, self.any_step)
        return self.embedded

    def transport(self):
        """'daemon' or 'embedded' (the default transport)."""
        return "daemon" if self.daemon is not None else "embedded"

    @property
    def root(self):
        """The daemon's root directory (logdirs through the daemon lie under
        it), or None in embedded mode."""
        return self.daemon.root if self.daemon is not None else None

    @property
    def lost(self):
        """Requests lost to broken connections with the daemon: sent at the
        counter's step (or step_set) before a daemon crash, not
        acknowledged, so not sent again (that could log them twice); or
        everything unacknowledged when the daemon did not come back. 0 in
        embedded mode."""
        return self.daemon.lost if self.daemon is not None else 0

    @property
    def reconnects(self):
        """Connections made again to the daemon after a break."""
        return self.daemon.reconnects if self.daemon is not None else 0

    @property
    def last_error(self):
        """The sentence of the daemon transport's last refusal or loss
        (None: none yet)."""
        return self.daemon.last_error if self.daemon is not None else None

    def route(self, logdir):
        """The Route of a logdir path."""
        path = os.path.abspath(os.path.expanduser(os.fspath(logdir)))
        rt = self._routes.get(path)
        if rt is not None:
            return rt
        with self._lock:
            rt = self._routes.get(path)
            if rt is None:
                rt = self._routes[path] = self._new_route(path)
        return rt

    def _new_route(self, path):
        if self.daemon is not None:
            name = self.daemon_name(path)
            if name is not None:
                return Route(self.daemon, name, path)
            if self.mode == "daemon":
                raise NoTransportError("logdir %s is outside the root of tfeventsd at %s (%s); "
                                       "use a logdir under it" % (path, self.socket_path,
                                                                  self.daemon.root))
            self._why_no_daemon = ("logdir %s is outside the root of tfeventsd (%s)"
                                   % (path, self.daemon.root))
        sink = self._embedded_sink()
        return Route(sink, path, path)

    def daemon_name(self, path):
        """path's name under the daemon's root, or None outside it."""
        root = self.daemon.root
        if not root.startswith("/"):
            return None
        real = os.path.realpath(path)
        if real == root:
            return "."
        prefix = root if root.endswith("/") else root + "/"
        if not real.startswith(prefix):
            return None
        return real[len(prefix):]

    def sinks(self):
        return [s for s in (self.daemon, self.embedded) if s is not None]

    def take_errors(self):
        errs = []
        for s in self.sinks():
            errs += s.take_errors()
        return errs

    def flush(self, sync=False, raise_errors=True):
        for s in self.sinks():
            s.flush(None, sync)
        if raise_errors:
            self.raise_errors()

    def raise_errors(self):
        errs = self.take_errors()
        if errs:
            raise RefusedError(errs)

    def close(self, raise_errors=True):
        _live.discard(self)
        for s in self.sinks():
            s.close()
        if raise_errors:
            self.raise_errors()


_default = None
_default_lock = threading.Lock()
_live = weakref.WeakSet()


@atexit.register
def _close_all():
    """At exit, send and write what every open client still holds (a
    script that never called close() loses nothing), and say what was
    refused since the last flush, as nobody will call flush() again."""
    for c in list(_live):
        try:
            c.close(raise_errors=False)
            errs = c.take_errors()
        except Exception as e:
            errs = ["closing at exit: %s" % e]
        if errs:
            sys.stderr.write("tfevents: %d request(s) refused, first: %s\n"
                             % (len(errs), errs[0]))


def _after_fork_in_child():
    # The threads of a client do not survive fork(): a child makes its own
    # default client at its first call (PyTorch DataLoader workers fork).
    global _default, _default_lock
    _default = None
    _default_lock = threading.Lock()
    _live.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def default_client():
    """The client of the module-level functions, made at first use."""
    global _default
    c = _default
    if c is None:
        with _default_lock:
            if _default is None:
                _default = Client()
            c = _default
    return c


def set_default_client(client):
    """Use client for the module-level functions (None: make one again at
    next use). The previous one is returned, not closed."""
    global _default
    with _default_lock:
        old, _default = _default, client
    return old
