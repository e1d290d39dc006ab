"""Where the embedded relay may send webhooks, and an httpx transport that connects only to
addresses it has just checked.

A webhook URL is configuration, but what its host name resolves to is decided by whoever runs
that name's DNS, at any time. Without a check, a URL could make the server POST to its cloud
metadata endpoint, to a service on the private network, or to one listening on this machine
(server-side request forgery). So the host is resolved and every address it resolves to is
checked when the server starts (a bad URL stops it, with the reason), and again for every
request; the request then goes to one of the addresses just checked, never to the name, so DNS
cannot answer a public address to the check and a private one to the connection (rebinding).

Accepted: https to public addresses. Loopback (over http or https) only with the development
setting CATALOG_WEBHOOK_ALLOW_HTTP_LOOPBACK, and plain http only to loopback. Refused always:
unspecified, cloud metadata, link-local, multicast, private and every other address that is not
globally routable (ipaddress's registry of special-purpose ranges).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

import httpx
from msgspec import Struct, field

IPAddress = IPv4Address | IPv6Address

# Named in refusals: the one switch that admits loopback targets.
LOOPBACK_SETTING = "CATALOG_WEBHOOK_ALLOW_HTTP_LOOPBACK"

# Instance metadata services (AWS, GCP, Azure and most others on IPv4; AWS on IPv6): a request
# there can hand out the machine's cloud credentials.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
PRIVATE_NETWORKS: tuple[IPv4Network | IPv6Network, ...] = (
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("172.16.0.0/12"),
    ipaddress.ip_network("192.168.0.0/16"),
    ipaddress.ip_network("fc00::/7"),
)
# IPv6 addresses that carry an IPv4 destination (NAT64's well-known prefix; 6to4 and
# IPv4-mapped addresses are recognised by ipaddress itself): judged by the IPv4 address.
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")

Resolver = Callable[[str, int], Sequence[str]]
"""(host, port) -> the addresses the host resolves to, as text; raises OSError when it does not."""


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system's resolver gives for `host`, in its order of preference."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found))


class WebhookTargetRefused(Exception):
    """A webhook URL the relay will not send to, and why."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"webhook target {url} refused: {reason}")
        self.url = url
        self.reason = reason


def address_refusal(address: IPAddress, *, allow_loopback: bool) -> str | None:
    """Why the relay may not connect to `address`, or None when it may."""
    carried = _carried_ipv4(address)
    if carried is not None:
        reason = address_refusal(carried, allow_loopback=allow_loopback)
        return None if reason is None else f"an address carrying {carried}, which is {reason}"
    if address.is_unspecified:
        return "an unspecified address"
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_loopback:
        if allow_loopback:
            return None
        return f"a loopback address (for development only: set {LOOPBACK_SETTING}=true)"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if any(address in network for network in PRIVATE_NETWORKS):
        return "a private address"
    if not address.is_global:
        return "a special-purpose address, not publicly routable"
    return None


def _carried_ipv4(address: IPAddress) -> IPv4Address | None:
    if isinstance(address, IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64_PREFIX:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


class WebhookTargetPolicy(Struct, frozen=True):
    """The rules above; `resolver` is the system's unless a test injects one."""

    allow_http_loopback: bool = False
    resolver: Resolver = field(default=system_resolver)

    def checked_addresses(self, url: str) -> list[IPAddress]:
        """Every address the URL's host resolves to now, each allowed, in the resolver's
        order; raises WebhookTargetRefused naming the URL and the reason otherwise."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as error:
            raise WebhookTargetRefused(url, f"not a URL ({error})") from error
        if parsed.scheme not in ("https", "http"):
            raise WebhookTargetRefused(url, "only https URLs are accepted")
        if parsed.scheme == "http" and not self.allow_http_loopback:
            raise WebhookTargetRefused(
                url,
                "plain http: use https (http is accepted only to loopback addresses, for "
                f"development, with {LOOPBACK_SETTING}=true)",
            )
        host = target_host(parsed)
        if not host:
            raise WebhookTargetRefused(url, "no host")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        literal = _address_literal(host)
        addresses = [literal] if literal is not None else self._resolve(url, host, port)
        for address in addresses:
            reason = address_refusal(address, allow_loopback=self.allow_http_loopback)
            if reason is None and parsed.scheme == "http" and not address.is_loopback:
                reason = "not a loopback address, and plain http goes only to loopback: use https"
            if reason is not None:
                if literal is not None:
                    raise WebhookTargetRefused(url, f"{address} is {reason}")
                raise WebhookTargetRefused(url, f"{host} resolves to {address}, which is {reason}")
        return addresses

    def _resolve(self, url: str, host: str, port: int) -> list[IPAddress]:
        try:
            resolved = self.resolver(host, port)
        except OSError as error:
            raise WebhookTargetRefused(url, f"{host} did not resolve ({error})") from error
        # An IPv6 link-local answer carries its interface (fe80::1%eth0): the address is before.
        found = [ipaddress.ip_address(text.split("%", 1)[0]) for text in resolved]
        if not found:
            raise WebhookTargetRefused(url, f"{host} resolved to no address")
        return found


def _address_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None  # a name


def target_host(url: httpx.URL) -> str:
    """The host as it goes on the wire: IDNA-encoded, IPv6 without brackets."""
    return url.raw_host.decode("ascii")


class CheckedAddressTransport(httpx.BaseTransport):
    """Checks the target of every request with the policy, then sends it to a checked address
    rather than to the name: the URL's host is replaced by the address, while the Host header
    and TLS (server name indication and certificate verification, through httpcore's
    `sni_hostname`) keep the name. Addresses are tried in the resolver's order while
    connecting fails. A refused target raises WebhookTargetRefused before anything is sent.

    Each host gets its own connection pool (`connect()` builds one): pools are keyed by
    address, and a TLS connection made for one name must never carry a request for another
    name served at the same address.
    """

    def __init__(
        self,
        policy: WebhookTargetPolicy,
        *,
        connect: Callable[[], httpx.BaseTransport] = httpx.HTTPTransport,
    ) -> None:
        self._policy = policy
        self._connect = connect
        self._pools: dict[str, httpx.BaseTransport] = {}
        self._lock = threading.Lock()  # the relay's sink threads share one client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        addresses = self._policy.checked_addresses(str(request.url))
        host = target_host(request.url)
        pool = self._pool(host)
        failure: httpx.ConnectError | None = None
        for address in addresses:
            pinned = httpx.Request(
                request.method,
                request.url.copy_with(host=str(address)),
                headers=request.headers,  # the Host header still names the host
                stream=request.stream,
                extensions={**request.extensions, "sni_hostname": host},
            )
            try:
                return pool.handle_request(pinned)
            except httpx.ConnectError as error:  # nothing was sent: the next address
                failure = error
        assert failure is not None  # checked_addresses never returns an empty list
        raise failure

    def _pool(self, host: str) -> httpx.BaseTransport:
        with self._lock:
            if host not in self._pools:
                self._pools[host] = self._connect()
            return self._pools[host]

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


def webhook_client(
    policy: WebhookTargetPolicy,
    *,
    timeout: float = 10.0,
    connect: Callable[[], httpx.BaseTransport] = httpx.HTTPTransport,
) -> httpx.Client:
    """The client webhooks are posted with. Redirects are not followed (a 3xx is a refusal,
    retried like any other): a receiver must not send the signed event on to another target.
    With an explicit transport, httpx ignores the proxy environment variables too: a proxy
    would resolve the name itself, past the check."""
    return httpx.Client(
        transport=CheckedAddressTransport(policy, connect=connect),
        timeout=timeout,
        follow_redirects=False,
    )
