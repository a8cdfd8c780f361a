"""Worker processes that keep what they made between the engine's phases.

Parsing is most of a cold run, and both phases need a file's tree: the index needs every
file's, the analysis again the tree of each file that can hold a finding. A process pool
forgets the trees between the phases (they are too big to send back), so the work was done
twice. These workers live for the whole run instead: a worker keeps the trees it parsed, and
the scheduler sends each file's analysis to the worker that holds its tree. A worker that has
run out of its own files takes files from the worker with the most left (it parses them
again), so an uneven split costs a little parsing, never a waiting core.

One batch at a time per worker: the parent sends a worker its next batch only after reading
its reply, so neither side can block writing into a full pipe the other is not reading.
"""

from __future__ import annotations

import gc
import multiprocessing
import signal
import traceback
from collections import deque
from multiprocessing.connection import wait
from multiprocessing.reduction import ForkingPickler
from typing import Any, Callable, Iterator, Optional, Sequence

from . import GC_THRESHOLDS

# batches per worker and phase: enough to even out the load, few enough that sending and
# pickling stay cheap (12 ended pretix's cold run 0.2-0.4 s sooner than 6, and than 20, in
# interleaved runs; Django and weblate the same or a little sooner)
BATCHES_PER_WORKER = 12


class WorkerError(RuntimeError):
    """A worker failed (its traceback is the message) or stopped unexpectedly."""


def _context():
    # fork where there is fork: a worker starts at once and shares the parent's memory
    try:
        return multiprocessing.get_context("fork")
    except ValueError:
        return multiprocessing.get_context()


def _main(conn) -> None:
    # Ctrl-C reaches the whole process group: the parent handles it and stops the workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    gc.set_threshold(*GC_THRESHOLDS)
    while True:
        # What arrives (the index, sources) lives on or is freed by reference counting: it
        # is received with collections off and frozen, so they never scan it; first the
        # little the last batch left is collected, so that no garbage is frozen.
        gc.collect(1)
        gc.disable()
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        finally:
            gc.freeze()
            gc.enable()
        if message is None:
            return
        func, payload = message
        try:
            reply = ("ok", func(payload))
        except BaseException:  # noqa: BLE001 - reported to the parent, which raises it
            reply = ("error", traceback.format_exc())
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return
        except Exception:  # a reply that cannot be pickled is a bug: report it as one
            conn.send(("error", traceback.format_exc()))


class Workers:
    """`jobs` processes; use as a context manager (they are stopped on the way out, also on
    Ctrl-C or an error)."""

    def __init__(self, jobs: int):
        context = _context()
        self.connections = []
        self.processes = []
        try:
            for _ in range(jobs):
                parent_end, child_end = context.Pipe()
                process = context.Process(target=_main, args=(child_end,), daemon=True)
                process.start()
                child_end.close()
                self.connections.append(parent_end)
                self.processes.append(process)
        except BaseException:
            self.close(graceful=False)
            raise

    def __len__(self) -> int:
        return len(self.processes)

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, kind, value, tb) -> None:
        self.close(graceful=kind is None)

    def close(self, graceful: bool = True) -> None:
        for connection in self.connections:
            try:
                if graceful:
                    connection.send(None)
            except OSError:
                pass
        for process in self.processes:
            if graceful:
                process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join()
        for connection in self.connections:
            connection.close()
        self.connections = []
        self.processes = []

    def _receive(self, worker: int) -> Any:
        try:
            status, value = self.connections[worker].recv()
        except (EOFError, OSError):
            process = self.processes[worker]
            process.join(timeout=1)
            raise WorkerError(
                f"a worker process stopped unexpectedly (exit code {process.exitcode})"
            ) from None
        if status == "error":
            raise WorkerError(value)
        return value

    def broadcast(self, func: Callable[[Any], Any], payload: Any) -> None:
        """Run `func(payload)` once in every worker (e.g. hand over the project index)."""
        data = ForkingPickler.dumps((func, payload))  # pickled once, not once per worker
        for connection in self.connections:
            connection.send_bytes(data)
        for worker in range(len(self)):
            self._receive(worker)

    def schedule(
        self,
        func: Callable[[list], Any],
        items: Sequence,
        weight: Callable[[Any], int],
        owner: Optional[Callable[[Any], Optional[int]]] = None,
        share: bool = True,
    ) -> Iterator[tuple[int, list, Any]]:
        """Run `func(batch)` over `items` in batches; yields `(worker, batch, result)` as
        batches finish. `owner(item)` names the worker that should get the item (it holds
        what the item needs); items without one go to whoever is free. `share=False`: a
        worker out of items does not take another's (when taking one costs more than
        waiting: the item needs what only its owner holds)."""
        jobs = len(self)
        queues = [deque() for _ in range(jobs + 1)]  # the last one: items of nobody's
        for item in sorted(items, key=weight, reverse=True):  # big first: even finish
            mine = owner(item) if owner else None
            queues[mine if mine is not None and 0 <= mine < jobs else jobs].append(item)
        left = [sum(weight(i) for i in q) for q in queues]
        target = max(1, sum(left) // (jobs * BATCHES_PER_WORKER))

        def next_batch(worker: int) -> list:
            # its own items, then nobody's, then the back (the small end) of the fullest queue
            for source in (worker, jobs):
                if queues[source]:
                    return take(source, front=True)
            victims = [q for q in range(jobs) if queues[q]] if share else []
            if not victims:
                return []
            return take(max(victims, key=lambda q: left[q]), front=False)

        def take(source: int, front: bool) -> list:
            queue, batch, size = queues[source], [], 0
            while queue and (not batch or size < target):
                item = queue.popleft() if front else queue.pop()
                size += weight(item)
                batch.append(item)
            left[source] -= size
            return batch

        busy: dict[int, list] = {}
        for worker in range(jobs):
            batch = next_batch(worker)
            if not batch:
                break
            self.connections[worker].send((func, batch))
            busy[worker] = batch
        while busy:
            ready = wait([self.connections[w] for w in busy])
            for connection in ready:
                worker = self.connections.index(connection)
                batch = busy.pop(worker)
                result = self._receive(worker)
                following = next_batch(worker)
                if following:
                    self.connections[worker].send((func, following))
                    busy[worker] = following
                yield worker, batch, result
