"""Leases: short exclusive claims in the ledger (one ticket processed by one worker at a
time, one timer fired by one worker), with an owner token so that a worker whose lease
expired cannot remove the lease another worker took since, and a sweep that frees the
leases of processes on this host that no longer run. A mixin of `store.Ledger`."""
from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from .tables import leases


class Leases:
    """Needs `engine` and `_write()` (store.Ledger)."""

    def take_lease(self, name: str, seconds: float) -> str | None:
        """A short exclusive lease (one ticket processed by one worker at a time).
        Returns the owner token that `renew_lease` and `release_lease` need, or None
        when someone else holds it. It expires by itself, so a worker killed while
        holding it blocks nobody for long; a worker whose lease expired cannot remove
        the lease another worker took since (the token no longer matches)."""
        now = datetime.now(UTC)
        token = lease_owner()
        try:
            with self._write() as conn:
                conn.execute(leases.delete().where(leases.c.name == name,
                                                   leases.c.expires_at < now))
                conn.execute(insert(leases).values(name=name, owner=token,
                                                   expires_at=now + timedelta(seconds=seconds)))
            return token
        except IntegrityError:
            return None

    def renew_lease(self, name: str, token: str, seconds: float) -> bool:
        """Long work keeps its lease; False if it was lost (expired and taken)."""
        with self._write() as conn:
            n = conn.execute(update(leases).where(leases.c.name == name, leases.c.owner == token)
                             .values(expires_at=datetime.now(UTC) + timedelta(seconds=seconds))).rowcount
        return n == 1

    def release_lease(self, name: str, token: str) -> None:
        with self._write() as conn:
            conn.execute(leases.delete().where(leases.c.name == name, leases.c.owner == token))

    def clear_dead_leases(self) -> int:
        """Free leases held by processes on this host that no longer run (a SIGKILL)."""
        host = socket.gethostname()
        with self.engine.connect() as conn:
            held = conn.execute(select(leases.c.name, leases.c.owner)).all()
        dead = [(name, owner) for name, owner in held
                if _owner_host(owner) == host and not _pid_alive(_owner_pid(owner))]
        for name, owner in dead:
            self.release_lease(name, owner)
        return len(dead)

    def lease_held(self, name: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(leases.c.name).where(
                leases.c.name == name, leases.c.expires_at >= datetime.now(UTC))).first() is not None


def lease_owner() -> str:
    """host:pid:random: the host and pid find a dead holder, the random part tells two
    leases of one process apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _owner_host(owner: str) -> str:
    return owner.split(":", 1)[0]


def _owner_pid(owner: str) -> int:
    parts = owner.split(":")
    try:
        return int(parts[1])
    except (IndexError, ValueError):
        return -1


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A killed worker whose parent died with it stays a zombie until reaped: dead all the same.
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return True
