"""One pending scheduler re-evaluation at a time: a workaround for Snakemake 9's job-rate
limiter, which otherwise spends about a core on scheduling in a long local run.

The limiter is on by default (`--max-jobs-per-timespan 100/1s`), and after every
scheduling round that leaves jobs waiting for a core, Snakemake's `JobScheduler` starts a
1 s timer that triggers another round. A round triggered by a finished job starts a new
timer too, so timer chains pile up, one per job that finished while others waited, each
firing a full round every second: re-evaluating the params of every waiting job and
stat-ing each of their inputs. In the default study (381 jobs, 2 cores) the Snakemake
process used 12 CPU-minutes by minute 33 with 121 threads alive, one of the two cores
taken from the jobs (`benchmarks/bench_scheduler.py` measures it on a synthetic DAG).
The limiter needs only one pending re-evaluation to resume after a rate-limited round;
more add nothing. The timer is a daemon, so a pending one does not hold up Snakemake's
exit (Snakemake's waits up to its timespan).
"""

from __future__ import annotations

import threading

# Snakemake's spelling (sic), the method every re-evaluation goes through.
REEVALUATION = "_schedule_reevalutation"


def coalesce_reevaluations(scheduler_class: type) -> bool:
    """Replace `scheduler_class`'s re-evaluation timer with one that keeps at most one
    pending per scheduler. Returns whether it patched (False where the class has no such
    method, e.g. a Snakemake that changed it, or where it is patched already)."""
    original = getattr(scheduler_class, REEVALUATION, None)
    if original is None or getattr(original, "coalesced", False):
        return False
    lock = threading.Lock()
    pending = set()  # ids of the schedulers with a re-evaluation armed

    def schedule_reevaluation(self, delay):
        with lock:
            if id(self) in pending:
                return
            pending.add(id(self))

        def reevaluate():
            with lock:
                pending.discard(id(self))
            self._open_jobs.release()

        timer = threading.Timer(delay, reevaluate)
        timer.daemon = True
        timer.start()

    schedule_reevaluation.coalesced = True
    schedule_reevaluation.original = original
    setattr(scheduler_class, REEVALUATION, schedule_reevaluation)
    return True
