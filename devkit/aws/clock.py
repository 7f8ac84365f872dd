"""One clock for everything time-stamped locally: metrics, alarm periods, deployment waits.

``Clock(speed=60)`` runs a simulated minute every real second, from the moment it was made, so a
canary's ten minutes and the alarms' one-minute periods pass together, faster.
"""

import threading
import time
from dataclasses import dataclass, field


@dataclass
class Clock:
    """Simulated time: real time since ``started``, times ``speed``, after ``origin``."""

    speed: float = 1.0
    origin: float = field(default_factory=time.time)
    _started: float = field(default_factory=time.monotonic, repr=False)
    _offset: float = field(default=0.0, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def now(self) -> float:
        """Seconds since the epoch, simulated."""
        with self._lock:
            return self.origin + self._offset + (time.monotonic() - self._started) * self.speed

    def advance(self, seconds: float) -> None:
        """Jump ahead (tests, and waits that need not pass in real time)."""
        with self._lock:
            self._offset += seconds

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of simulated time."""
        time.sleep(max(0.0, seconds) / self.speed)

    def since_real(self, epoch: float) -> float:
        """Simulated seconds elapsed since the real moment ``epoch`` (a timestamp another system took)."""
        return (time.time() - epoch) * self.speed

    def real_seconds(self, seconds: float) -> float:
        """How long ``seconds`` of simulated time take in real time."""
        return seconds / self.speed
