"""What a sink keeps of refusals, whichever transport saw them (the
daemon's replies, or libtfevents' return codes in embedded mode)."""


class Refusals:
    """A mixin: the sink sets self._lock, self._errors = [], self._refused
    = 0 and self.on_error (a callable or None) in its constructor."""

    def _note_refusal(self, msg):
        """Count a refusal; hand its sentence to on_error, or keep it for
        take_errors() (flush() and close() raise on them)."""
        self._refused += 1
        cb = self.on_error
        if cb is not None:
            try:
                cb(msg)
            except Exception:  # a callback must not kill the caller
                pass
        else:
            self._errors.append(msg)

    def take_errors(self):
        with self._lock:
            errs, self._errors = self._errors, []
        return errs

    @property
    def refused(self):
        return self._refused
