"""Group commit: one writer thread per process stores the finished deferred runs of all request
threads together, in one transaction per batch (design: bench/GROUP_COMMIT.md).

    group_writer.store(journal._write)   # blocks until the rows are committed (True),
                                         # or written in the caller's transaction

A deferred run (runs.engine.executor.execute_deferred) is executed in the request thread and
kept in memory; at its end its rows are handed here. The writer takes the first waiting write
and every other one already queued (up to WFAIB_GROUP_COMMIT_MAX), runs them in one
transaction, and wakes each caller after the commit. An idle server adds no wait: a batch is
only what queued up while the previous one was being written. So SQLite's write lock and the
commit are paid once per batch instead of once per run, and on SQLite the writers of the
server's processes take turns on an advisory file lock instead of sleeping in SQLite's busy
handler.

Durability is unchanged: `store` returns (and the request is answered) only after its rows
are committed; a crash loses only writes that were queued, whose requests were never answered.
If a batch fails, each of its writes is retried alone, so one bad run fails only its own
request. Inside a transaction (`connection.in_atomic_block`, as in tests and in callers that
need atomicity) or with WFAIB_GROUP_COMMIT off, the write happens in the caller's thread.
"""

from __future__ import annotations

import fcntl
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import BinaryIO

from django.conf import settings
from django.db import close_old_connections, connection, transaction

from wfaib.conf import wfaib_settings

from ..db_retry import retry_on_lock

logger = logging.getLogger("wfaib.engine")

# Inserts without a transaction of its own; may be called again. It may also carry
# `together(writes)`, a way to write several of its kind at once (GroupWriter._together).
Write = Callable[[], None]


def store(write: Write) -> bool:
    """Run `write` in a committed transaction: batched with other threads' writes by this
    process's writer, or here when group commit is off or a transaction is open, or when
    this process executes one run at a time (write_in_caller). True: committed on return;
    False: written in the caller's open transaction, and committed with it."""
    if connection.in_atomic_block:
        retry_on_lock(_alone, write)
        return False
    if not wfaib_settings.GROUP_COMMIT:
        retry_on_lock(_alone, write)
    elif _one_at_a_time == os.getpid():
        retry_on_lock(GroupWriter._together, [write])  # as the writer would, in this thread
    else:
        _writer().submit(write).result()
    return True


_one_at_a_time: int | None = None  # the pid of a process that called write_in_caller


def write_in_caller() -> None:
    """For a process that executes one run at a time (a Celery prefork pool process,
    wfaib/celery.py): its writes have nothing to be batched with, so `store` writes them in the
    caller's thread, as the writer would (the file lock on SQLite, one transaction), without
    handing each to a writer thread and waiting for it to be woken. Measured: bench/RESULTS.md."""
    global _one_at_a_time
    _one_at_a_time = os.getpid()


def close_connections() -> None:
    """Close the writer's database connection (it reconnects on its next batch); for a test
    session's end, before the test database is dropped."""
    if _instance is not None and _instance[0] == os.getpid():
        _instance[1].submit(_CLOSE).result(30)


def _close() -> None:
    """The sentinel write of close_connections (never called)."""


_CLOSE: Write = _close


def _alone(write: Write) -> None:
    """The write in the caller's thread. No file lock (writers_take_turns) here on purpose: in
    a transaction the caller already holds open, the lock would be taken after SQLite's own
    write lock may be held, and the writer thread of this or another process, holding the file
    lock while it waits for SQLite's, would deadlock with it (the busy timeout settles it)."""
    with transaction.atomic():
        write()


class Written:
    """A write's outcome for the thread waiting on it: the part of concurrent.futures.Future
    the writer needs, on one lock that stays held until the writer settles it. A Future waits
    on a Condition, built and waited on in Python for every write (bench/RESULTS.md). Only the
    writer thread settles it, once."""

    __slots__ = ("_done", "_error", "_settled")

    def __init__(self) -> None:
        self._settled = threading.Lock()
        self._settled.acquire()
        self._done = False
        self._error: BaseException | None = None

    def set_result(self, _result: None = None) -> None:
        self._done = True
        self._settled.release()

    def set_exception(self, error: BaseException) -> None:
        self._error, self._done = error, True
        self._settled.release()

    def done(self) -> bool:
        return self._done

    def result(self, timeout: float | None = None) -> None:
        """Block until settled (TimeoutError past `timeout` seconds); raise the write's
        error, if it failed."""
        if not self._settled.acquire(timeout=-1 if timeout is None else timeout):
            raise TimeoutError(f"the group writer did not settle the write in {timeout}s")
        self._settled.release()  # settled for good: another result() returns at once
        if self._error is not None:
            raise self._error


class GroupWriter:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[Write, Written]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="wfaib-group-writer",
                                        daemon=True)
        self._thread.start()

    def submit(self, write: Write) -> Written:
        written = Written()
        self._queue.put((write, written))
        return written

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first[0] is _CLOSE:
                connection.close()
                first[1].set_result(None)
                continue
            batch = [first]
            limit = max(1, wfaib_settings.GROUP_COMMIT_MAX)
            while len(batch) < limit:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item[0] is _CLOSE:  # after this batch
                    self._queue.put(item)
                    break
                batch.append(item)
            try:
                self._write(batch)
            except BaseException:  # never let the writer die: every caller must be woken
                logger.exception("group commit: the writer failed")
                for _write, future in batch:
                    if not future.done():
                        future.set_exception(RuntimeError("the group writer failed"))

    def _write(self, batch: list[tuple[Write, Written]]) -> None:
        close_old_connections()  # a connection past CONN_MAX_AGE or broken is replaced
        try:
            retry_on_lock(self._together, [write for write, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                batch[0][1].set_exception(exc)
                return
            logger.warning("group commit: a batch of %d failed; writing each alone", len(batch))
            for write, future in batch:
                try:
                    retry_on_lock(self._together, [write])
                except Exception as exc:
                    future.set_exception(exc)
                else:
                    future.set_result(None)
            return
        for _write, future in batch:
            future.set_result(None)

    @staticmethod
    def _together(writes: list[Write]) -> None:
        """The writes in one transaction. Writes that carry a `together(writes)` of their
        kind (runs.engine.log_rows.NewRun) are handed to it as one list, to be written in
        fewer statements; the others are called one by one. Where every write is of one kind
        that can write them all in one statement, which the database commits by itself
        (`one_statement(writes)`), no transaction is opened around it: on PostgreSQL one
        round trip instead of BEGIN, the statements and COMMIT. Statements are prepared
        (their parameters made: Python's work) before the writers' lock is taken, which the
        other processes' writers wait for on SQLite."""
        one_statement = getattr(writes[0], "one_statement", None)
        statement = one_statement(writes) if one_statement is not None and all(
            getattr(write, "one_statement", None) is one_statement for write in writes) else None
        if statement is not None:
            with writers_take_turns():  # held for the database's work only
                statement()
            return
        steps = _prepared(writes)
        with writers_take_turns():
            with transaction.atomic():
                for step in steps:
                    step()


def _prepared(writes: list[Write]) -> list[Callable[[], None]]:
    """The batch's steps in one transaction: each write without a kind, then each kind's
    writes together, prepared now where the kind can (`prepared_together(writes)`: the
    rows' parameters made before the writers' lock is taken)."""
    steps: list[Callable[[], None]] = []
    kinds: dict[Callable[[list[Write]], None], list[Write]] = {}
    for write in writes:
        together = getattr(write, "together", None)
        if together is None:
            steps.append(write)
        else:
            kinds.setdefault(together, []).append(write)
    for together, same in kinds.items():
        prepare = getattr(same[0], "prepared_together", None)
        steps.append(partial(together, same) if prepare is None else prepare(same))
    return steps


@contextmanager
def writers_take_turns() -> Iterator[None]:
    """On SQLite, an advisory lock on a file beside the database around a batch, so that the
    writers of several server processes alternate instead of sleeping in the busy handler."""
    path = _lock_path()
    if path is None:
        yield
        return
    handle = _lock_file(path)
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)


_lock_files: dict[tuple[int, str], BinaryIO] = {}


def _lock_file(path: str) -> BinaryIO:
    """The lock file, opened once per process and path (only the writer thread takes it; a
    forked child opens its own: flock locks belong to the open file description)."""
    key = (os.getpid(), path)
    handle = _lock_files.get(key)
    if handle is None or handle.closed:
        handle = _lock_files[key] = open(path, "a+b")  # kept open
    return handle


def _lock_path() -> str | None:
    """The lock file's path beside this connection's SQLite database file (None: another
    database, or one in memory)."""
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict.get("NAME") or
               settings.DATABASES["default"].get("NAME") or "")
    if not name or name == ":memory:" or "mode=memory" in name:
        return None
    return f"{name}.group-commit.lock"


_lock = threading.Lock()
_instance: tuple[int, GroupWriter] | None = None


def _writer() -> GroupWriter:
    """This process's writer, started on first use (and again in a forked child)."""
    global _instance
    pid = os.getpid()
    if _instance is None or _instance[0] != pid:
        with _lock:
            if _instance is None or _instance[0] != pid:
                _instance = (pid, GroupWriter())
    return _instance[1]
