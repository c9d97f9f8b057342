"""Locations for the demo (`--locations N`): one network namespace per zumik-monitor, joined by a veth pair to
the demo's own namespace (scripts/with-docker.sh's private, loopback-only one, which holds the stack, the agent,
PostgreSQL and the Discord stand-in). The same topology as the fleet tests (Tests/ZumikTestSupport/Network):
loopback addresses only. Location i uses 127.13.i.0/29: the demo end of its veth holds .1 (where the location
reaches every service), the location end .6. Every namespace keeps only 127.0.0.1/32 on lo and sets
route_localnet, so the rest of 127/8 is routed like any subnet; the services listen on all addresses of the
demo's namespace, which has no others.
"""

import os
import subprocess

NAMES = "abcdefghij"


def ip(*args, check=True):
    result = subprocess.run(["ip", *args], text=True, capture_output=True)
    if check and result.returncode != 0:
        raise SystemExit(f"demo: ip {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def loopback_only(prefix=()):
    """lo with 127.0.0.1/32 only, and 127/8 routable (in the namespace `prefix` runs commands in)."""
    run = lambda *a: subprocess.run([*prefix, *a], check=True, capture_output=True)  # noqa: E731
    run("ip", "link", "set", "lo", "up")
    run("ip", "addr", "del", "127.0.0.1/8", "dev", "lo")
    run("ip", "addr", "add", "127.0.0.1/32", "dev", "lo")
    for conf in ("all", "default"):
        run("sh", "-c", f"echo 1 > /proc/sys/net/ipv4/conf/{conf}/route_localnet; "
            f"echo 0 > /proc/sys/net/ipv4/conf/{conf}/rp_filter")


class Location:
    def __init__(self, index, namespace):
        self.index = index
        self.name = NAMES[index - 1]
        self.namespace = namespace
        self.service_address = f"127.13.{index}.1"
        self.address = f"127.13.{index}.6"

    @property
    def launcher(self):
        return ["ip", "netns", "exec", self.namespace]


class Fleet:
    """N location namespaces around the current (private) one; remove() deletes them and what runs in them."""

    def __init__(self, count):
        if os.environ.get("_IN_DOCKER_NS") != "1":
            raise SystemExit("demo: --locations needs the private namespace of scripts/with-docker.sh")
        prefix = f"zfdemo{os.getpid()}"
        self.locations = [Location(i, f"{prefix}-{NAMES[i - 1]}") for i in range(1, count + 1)]
        try:
            loopback_only()
            for location in self.locations:
                ip("netns", "add", location.namespace)
                loopback_only(location.launcher)
                hub_end = f"loc-{location.name}"
                ip("link", "add", hub_end, "type", "veth", "peer", "name", "hub", "netns", location.namespace)
                ip("addr", "add", f"{location.service_address}/29", "dev", hub_end)
                ip("link", "set", hub_end, "up")
                ip("-n", location.namespace, "addr", "add", f"{location.address}/29", "dev", "hub")
                ip("-n", location.namespace, "link", "set", "hub", "up")
        except BaseException:
            self.remove()
            raise

    def remove(self):
        for location in self.locations:
            for pid in ip("netns", "pids", location.namespace, check=False).split():
                try:
                    os.kill(int(pid), 9)
                except (ProcessLookupError, ValueError):
                    pass
            ip("netns", "del", location.namespace, check=False)
