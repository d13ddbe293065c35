"""TCP-MD5 signatures (RFC 2385) on a socket: Linux's ``TCP_MD5SIG`` option.

RFC 2385 §2: every segment of a BGP connection carries an MD5 digest of the segment
and a key both ends share; a segment whose digest is missing or wrong is dropped by
the receiving kernel without a reply (§4: "the receiving TCP ... MUST drop it"), so a
key mismatch looks like a peer that never answers.

The kernel keeps one key per remote address on a socket.  A listening socket holds
the key of every configured neighbour, set before it accepts (the accepted socket
inherits the key of its peer); a connecting socket holds the neighbour's key, set
before ``connect``.  The option value is ``struct tcp_md5sig`` (``linux/tcp.h``)::

    struct __kernel_sockaddr_storage tcpm_addr;  /* 128 octets: family in host order,
                                                    port and address in network order */
    __u8  tcpm_flags;     /* 0: no prefix, no ifindex */
    __u8  tcpm_prefixlen;
    __u16 tcpm_keylen;    /* 0 deletes the key */
    int   tcpm_ifindex;
    __u8  tcpm_key[80];
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import struct
import sys
from typing import Protocol

from bgpemu.errors import TransportError
from bgpemu.types import TCP_MD5_MAX_KEY_LENGTH, TcpMd5Key

__all__ = [
    "TCP_MD5SIG",
    "Md5UnavailableError",
    "Socket",
    "md5sig",
    "open_connection",
    "set_md5_key",
]

TCP_MD5SIG = 14
"""``linux/tcp.h``: the socket option (level IPPROTO_TCP) that sets one key."""

_SOCKADDR_STORAGE = 128
_HEADER = struct.Struct("=BBHi")  # flags, prefixlen, keylen, ifindex (native order)


class Md5UnavailableError(TransportError, OSError):
    """The platform cannot sign TCP segments (no ``TCP_MD5SIG``), or refused the key.

    An OSError too, so a speaker that cannot set its listening keys fails the way one
    that cannot bind does (``bgpemu speaker`` exits 1, a lab reports the speaker)."""


class Socket(Protocol):
    """What :func:`set_md5_key` needs of a socket (a ``socket.socket`` or asyncio's
    ``TransportSocket`` wrapper of a server's socket)."""

    @property
    def family(self) -> int: ...

    def setsockopt(self, level: int, optname: int, value: bytes, /) -> None: ...


def _sockaddr(family: int, address: str) -> bytes:
    """``struct sockaddr_in`` / ``sockaddr_in6`` for ``address`` (port 0), padded to 128.

    An IPv4 address on an IPv6 socket is written as its IPv4-mapped IPv6 address
    (``::ffff:a.b.c.d``), which is how such a socket sees that peer.
    """
    ip = ipaddress.ip_address(address)
    if family == socket.AF_INET6:
        if ip.version == 4:
            ip = ipaddress.IPv6Address(f"::ffff:{ip}")
        raw = struct.pack("=H", socket.AF_INET6) + struct.pack("!HI", 0, 0) + ip.packed
        raw += struct.pack("=I", 0)  # sin6_scope_id
    else:
        if ip.version != 4:
            raise ValueError(f"an IPv4 socket cannot hold a key for {address}")
        raw = struct.pack("=H", socket.AF_INET) + struct.pack("!H", 0) + ip.packed
    return raw.ljust(_SOCKADDR_STORAGE, b"\0")


def md5sig(family: int, address: str, key: TcpMd5Key | None) -> bytes:
    """The ``struct tcp_md5sig`` that sets ``key`` for ``address`` (None: deletes it)."""
    secret = b"" if key is None else key.secret
    header = _HEADER.pack(0, 0, len(secret), 0)
    return _sockaddr(family, address) + header + secret.ljust(TCP_MD5_MAX_KEY_LENGTH, b"\0")


def set_md5_key(sock: Socket, address: str, key: TcpMd5Key | None, *, who: str) -> None:
    """Sign (and require signatures on) ``sock``'s segments to/from ``address``.

    ``key`` None deletes the key for that address.  :class:`Md5UnavailableError`, naming
    ``who`` (the speaker and neighbour) and never the key, if the platform has no
    TCP-MD5 or refuses the option.
    """
    if not sys.platform.startswith("linux"):
        if key is None:
            return  # no key can have been set
        raise Md5UnavailableError(
            f"{who}: TCP-MD5 (RFC 2385) is configured but this platform ({sys.platform}) "
            "has no TCP_MD5SIG socket option; remove the password or run on Linux"
        )
    try:
        sock.setsockopt(socket.IPPROTO_TCP, TCP_MD5SIG, md5sig(sock.family, address, key))
    except OSError as exc:
        if key is None:
            return  # nothing to delete
        raise Md5UnavailableError(
            f"{who}: the kernel refused the TCP-MD5 (RFC 2385) key for {address}: "
            f"{exc.strerror or exc} (a kernel without CONFIG_TCP_MD5SIG cannot sign)"
        ) from None


async def open_connection(
    address: str, port: int, *, local_address: str, key: TcpMd5Key | None, who: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect from ``local_address`` to ``address``:``port``, signing with ``key`` if any.

    The key is set on the socket before ``connect`` (RFC 2385 §2: the SYN is signed
    too).  The socket is bound with ``SO_REUSEADDR``, as the listeners are: once this
    connection is closed here first, its ephemeral port stays in TIME_WAIT for a minute,
    and without the option no listener could bind that port on ``local_address``
    meanwhile (a speaker started then on that address and port: "address already in
    use").  OSError / :class:`Md5UnavailableError` like :func:`asyncio.open_connection`.
    """
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((local_address, 0))
        if key is not None:
            set_md5_key(sock, address, key, who=who)
        await asyncio.get_running_loop().sock_connect(sock, (address, port))
        return await asyncio.open_connection(sock=sock)
    except BaseException:
        sock.close()
        raise
