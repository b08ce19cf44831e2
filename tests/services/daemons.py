"""The daemons of the service harness: for each, its Debian package, the small config it gets
(written into the harness folder) and the command that runs it in the foreground.

Every daemon runs inside the harness's network namespace (:mod:`tests.services.netns`) on its
standard port (OpenSSH on 2222, a non-standard one), bound to 127.0.0.1 by its own config.
rpcbind cannot be told where to listen (``-h 127.0.0.1`` crashes in Debian 12), nor can
strongSwan's charon, so a small ``LD_PRELOAD`` library compiled now (``bind_loopback.c``) turns
their wildcard binds into loopback ones. rpcbind, charon and sshd also get a private tmpfs on
``/run`` (their lock file, pid file, socket and privsep folder live there), mounted in the mount
namespace ``ip netns exec`` makes for each command, so nothing of theirs is written to the
machine's ``/run``.

Each program is taken from the machine's own package, else from the private root where
``scripts/setup.sh`` unpacks a package that apt could install only by replacing one the machine
has (vsftpd where proftpd is installed, postfix where exim4 is): :data:`ROOTS`, in that order.
A daemon from the private root gets the paths its package has built in pointed there (postfix:
its daemon, library and meta folders).
"""

from __future__ import annotations

import grp
import os
import pwd
import shlex
import subprocess
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from tests.services.netns import Proto

HERE = Path(__file__).resolve().parent
SYSTEM = Path("/")
PRIVATE = HERE.parents[1] / ".deps"  # scripts/packages.py unpacks into its root/
PRIVATE_ROOT = PRIVATE / "root"
ROOTS: tuple[Path, ...] = (SYSTEM, PRIVATE_ROOT)
CERT_NAME = "sigscan.test"
TOOL_TIMEOUT = 30.0  # seconds, for openssl, ssh-keygen and gcc


@dataclass(frozen=True)
class Endpoint:
    """One service a daemon offers: what the scanners are pointed at."""

    key: str
    proto: Proto
    port: int


SSH = Endpoint("ssh", Proto.TCP, 2222)
HTTP = Endpoint("http", Proto.TCP, 80)
HTTPS = Endpoint("https", Proto.TCP, 443)
# nginx's TLS port that answers plain HTTP with a redirect to HTTPS on itself (error_page 497):
# Nmap's probes see plain HTTP, its https-redirect script makes it ssl/http
HTTPS_REDIRECT = Endpoint("https-redirect", Proto.TCP, 8080)
SMTP = Endpoint("smtp", Proto.TCP, 25)
SMTPS = Endpoint("smtps-stunnel", Proto.TCP, 465)  # stunnel4 in front of Postfix
FTP = Endpoint("ftp", Proto.TCP, 21)
REDIS = Endpoint("redis", Proto.TCP, 6379)
DNS_TCP = Endpoint("dns-tcp", Proto.TCP, 53)
DNS_UDP = Endpoint("dns-udp", Proto.UDP, 53)
MEMCACHED = Endpoint("memcached", Proto.TCP, 11211)
RPCBIND_TCP = Endpoint("rpcbind-tcp", Proto.TCP, 111)
RPCBIND_UDP = Endpoint("rpcbind-udp", Proto.UDP, 111)
SNMP = Endpoint("snmp", Proto.UDP, 161)
STUN = Endpoint("stun", Proto.UDP, 3478)  # coturn
IKE = Endpoint("ike", Proto.UDP, 500)  # strongSwan's charon
PPTP = Endpoint("pptp", Proto.TCP, 1723)  # pptpd
MURMUR_TCP = Endpoint("murmur-tcp", Proto.TCP, 64738)  # mumble-server's murmurd
MURMUR_UDP = Endpoint("murmur-udp", Proto.UDP, 64738)
MQTT = Endpoint("mqtt", Proto.TCP, 1883)
AMQP = Endpoint("amqp", Proto.TCP, 5672)
XMPP_CLIENT = Endpoint("xmpp-client", Proto.TCP, 5222)
XMPP_SERVER = Endpoint("xmpp-server", Proto.TCP, 5269)
TIME_TCP = Endpoint("time-tcp", Proto.TCP, 37)
TIME_UDP = Endpoint("time-udp", Proto.UDP, 37)

ENDPOINTS: tuple[Endpoint, ...] = (
    SSH, HTTP, HTTPS, SMTP, SMTPS, FTP, REDIS, DNS_TCP, DNS_UDP, MEMCACHED, RPCBIND_TCP,
    RPCBIND_UDP, SNMP, HTTPS_REDIRECT,
    STUN, IKE, PPTP, MURMUR_TCP, MURMUR_UDP,
    MQTT, AMQP, XMPP_CLIENT, XMPP_SERVER, TIME_TCP, TIME_UDP,
)


@dataclass(frozen=True)
class Found:
    """Where a program is: its file, and the root its package's files are under (``/`` for the
    machine's own package)."""

    path: Path
    root: Path

    @property
    def private(self) -> bool:
        return self.root != SYSTEM


@dataclass(frozen=True)
class Program:
    """An executable the harness needs and the Debian package that has it."""

    path: str  # where the package puts it
    package: str

    def find(self, roots: Sequence[Path] = ROOTS) -> Found | None:
        """The program under the first of ROOTS that has it, executable."""
        for root in roots:
            path = root / self.path.lstrip("/")
            if os.access(path, os.X_OK):
                return Found(path, root)
        return None


PROGRAMS: dict[str, Program] = {
    "sshd": Program("/usr/sbin/sshd", "openssh-server"),
    "ssh-keygen": Program("/usr/bin/ssh-keygen", "openssh-client"),
    "nginx": Program("/usr/sbin/nginx", "nginx"),
    "postfix": Program("/usr/lib/postfix/sbin/master", "postfix"),
    "vsftpd": Program("/usr/sbin/vsftpd", "vsftpd"),
    "redis": Program("/usr/bin/redis-server", "redis-server"),
    "dnsmasq": Program("/usr/sbin/dnsmasq", "dnsmasq"),
    "memcached": Program("/usr/bin/memcached", "memcached"),
    "rpcbind": Program("/usr/sbin/rpcbind", "rpcbind"),
    "snmpd": Program("/usr/sbin/snmpd", "snmpd"),
    "stunnel": Program("/usr/bin/stunnel4", "stunnel4"),
    "mosquitto": Program("/usr/sbin/mosquitto", "mosquitto"),
    "rabbitmq": Program("/usr/lib/rabbitmq/bin/rabbitmq-server", "rabbitmq-server"),
    "prosody": Program("/usr/bin/prosody", "prosody"),
    "xinetd": Program("/usr/sbin/xinetd", "xinetd"),
    "openssl": Program("/usr/bin/openssl", "openssl"),
    "gcc": Program("/usr/bin/gcc", "gcc"),
    "ip": Program("/usr/sbin/ip", "iproute2"),
    "ss": Program("/usr/bin/ss", "iproute2"),
    "nmap": Program("/usr/bin/nmap", "nmap"),
    "turnserver": Program("/usr/bin/turnserver", "coturn"),
    "charon": Program("/usr/lib/ipsec/charon", "strongswan-charon"),
    "swanctl": Program("/usr/sbin/swanctl", "strongswan-swanctl"),
    "pptpd": Program("/usr/sbin/pptpd", "pptpd"),
    "murmurd": Program("/usr/sbin/murmurd", "mumble-server"),
}


def missing_packages(roots: Sequence[Path] = ROOTS) -> list[str]:
    """Debian packages whose programs the harness needs and none of ROOTS has."""
    return sorted({p.package for p in PROGRAMS.values() if p.find(roots) is None})


def package_version(package: str, private: Path = PRIVATE) -> str:
    """The Debian version of PACKAGE (``1:9.2p1-2+deb12u10``): the machine's if installed, else
    the one unpacked into the PRIVATE folder (its ``unpacked/PACKAGE`` file)."""
    result = subprocess.run(["dpkg-query", "-W", "-f", "${db:Status-Status} ${Version}", package],
                            capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False)
    status, _, version = result.stdout.partition(" ")
    if result.returncode == 0 and status == "installed":
        return version.strip()
    try:
        return (private / "unpacked" / package).read_text().strip()
    except FileNotFoundError:
        raise RuntimeError(f"{package} is neither installed nor unpacked in {private}") from None


@dataclass(frozen=True)
class Material:
    """What the daemons share, made at start: a TLS certificate and key (CN=sigscan.test), an
    SSH host key, the bind-to-loopback preload library; and the roots programs are taken from."""

    folder: Path
    cert: Path
    key: Path
    ssh_host_key: Path
    preload: Path
    roots: tuple[Path, ...] = ROOTS

    def program(self, name: str) -> Found:
        found = PROGRAMS[name].find(self.roots)
        if found is None:
            raise RuntimeError(f"{PROGRAMS[name].path} ({PROGRAMS[name].package}) is under none "
                               f"of {', '.join(map(str, self.roots))}")
        return found


@dataclass(frozen=True)
class Daemon:
    """A daemon ready to start: ``command`` runs it in the foreground (it ``exec``s through
    ``sh`` and ``env``, so its PID is the one of the process started)."""

    name: str
    argv: tuple[str, ...]
    endpoints: tuple[Endpoint, ...]
    env: tuple[tuple[str, str], ...] = ()
    private_run: tuple[str, ...] | None = None  # a tmpfs on /run, with these folders in it

    def command(self) -> list[str]:
        command = [*self.argv]
        if self.env:
            command = ["/usr/bin/env", *(f"{k}={v}" for k, v in self.env), *command]
        if self.private_run is not None:
            script = ["mount -t tmpfs -o mode=0755,size=4m sigscan-harness-run /run"]
            script += [f"mkdir -m 0755 -p {shlex.quote(d)}" for d in self.private_run]
            command = ["/bin/sh", "-c", " && ".join([*script, 'exec "$@"']), "sh", *command]
        return command


def prepare(folder: Path, roots: Sequence[Path] = ROOTS) -> Material:
    """Make the certificate, the SSH host key and the preload library (the three at once)."""
    material = Material(folder, folder / "cert.pem", folder / "key.pem",
                        folder / "ssh_host_ed25519_key", folder / "bind_loopback.so", tuple(roots))
    commands = [
        [str(material.program("openssl").path), "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", f"/CN={CERT_NAME}",
         "-keyout", str(material.key), "-out", str(material.cert)],
        [str(material.program("ssh-keygen").path), "-q", "-t", "ed25519", "-N", "", "-C",
         "sigscan-harness", "-f", str(material.ssh_host_key)],
        [str(material.program("gcc").path), "-shared", "-fPIC", "-O2", "-Wall", "-o",
         str(material.preload), str(HERE / "bind_loopback.c"), "-ldl"],
    ]
    with ExitStack() as stack:
        running = [stack.enter_context(subprocess.Popen(c, stdin=subprocess.DEVNULL,
                                                        stdout=subprocess.PIPE,
                                                        stderr=subprocess.STDOUT))
                   for c in commands]
        for process, command in zip(running, commands, strict=True):
            output, _ = process.communicate(timeout=TOOL_TIMEOUT)
            if process.returncode != 0:
                raise RuntimeError(f"{shlex.join(command)} failed: {output.decode(errors='replace')}")
    return material


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def sshd(m: Material) -> Daemon:
    config = _write(m.folder / "sshd" / "sshd_config", f"""\
Port {SSH.port}
ListenAddress 127.0.0.1
HostKey {m.ssh_host_key}
PidFile none
UsePAM no
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
""")
    return Daemon("sshd", (str(m.program("sshd").path), "-D", "-e", "-f", str(config)), (SSH,),
                  private_run=("/run/sshd",))


def nginx(m: Material) -> Daemon:
    prefix = m.folder / "nginx"
    _write(prefix / "html" / "index.html", "<html><body>sigscan harness</body></html>\n")
    temp = "\n".join(f"    {kind}_temp_path {prefix / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    config = _write(prefix / "nginx.conf", f"""\
daemon off;
worker_processes 1;
user www-data;
pid {prefix / "nginx.pid"};
error_log stderr;
events {{ worker_connections 64; }}
http {{
    access_log off;
{temp}
    server {{
        listen 127.0.0.1:{HTTP.port};
        root {prefix / "html"};
    }}
    server {{
        listen 127.0.0.1:{HTTPS.port} ssl;
        ssl_certificate {m.cert};
        ssl_certificate_key {m.key};
        root {prefix / "html"};
    }}
    server {{
        listen 127.0.0.1:{HTTPS_REDIRECT.port} ssl;
        server_name 127.0.0.1;
        ssl_certificate {m.cert};
        ssl_certificate_key {m.key};
        error_page 497 =301 https://$host:$server_port$request_uri;
        root {prefix / "html"};
    }}
}}
""")
    return Daemon("nginx", (str(m.program("nginx").path), "-e", "stderr", "-p", str(prefix), "-c",
                            str(config)), (HTTP, HTTPS, HTTPS_REDIRECT))


_POSTFIX_QUEUE = ("active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming",
                  "private", "saved", "trace")
_POSTFIX_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def postfix(m: Material) -> Daemon:
    """Postfix's master in the foreground (``-d``) with a config folder and queue of its own."""
    master = m.program("postfix")
    root = m.folder / "postfix"
    queue, data = root / "spool", root / "data"
    owner, postdrop = pwd.getpwnam("postfix").pw_uid, grp.getgrnam("postdrop").gr_gid
    for name, uid, gid, mode in [
        *((d, owner, 0, 0o700) for d in _POSTFIX_QUEUE),
        ("maildrop", owner, postdrop, 0o730), ("public", owner, postdrop, 0o710), ("pid", 0, 0, 0o755),
    ]:
        path = queue / name
        path.mkdir(parents=True, exist_ok=True)
        os.chown(path, uid, gid)
        path.chmod(mode)
    data.mkdir(parents=True, exist_ok=True)
    os.chown(data, owner, 0)
    data.chmod(0o700)
    _write(root / "main.cf", f"""\
compatibility_level = 3.6
myhostname = {CERT_NAME}
mydomain = {CERT_NAME}
myorigin = {CERT_NAME}
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
queue_directory = {queue}
data_directory = {data}
maillog_file = /dev/stdout
alias_maps =
alias_database =
{_postfix_paths(master)}""")
    _write(root / "master.cf", f"127.0.0.1:{SMTP.port} inet n - n - - smtpd\n{_POSTFIX_SERVICES}")
    # Postfix rereads a config file modified in the last second or two until it is older (its
    # guard against half-written files): date them back, or master binds only ~2 s later.
    past = time.time() - 60
    for name in ("main.cf", "master.cf"):
        os.utime(root / name, (past, past))
    env = [("MAIL_CONFIG", str(root))]
    if master.private:  # its libpostfix-*.so: the binaries' RUNPATH names the machine's folder
        env.append(("LD_LIBRARY_PATH", str(master.root / _POSTFIX_LIBS)))
    return Daemon("postfix", (str(master.path), "-d", "-c", str(root)), (SMTP,), env=tuple(env))


_POSTFIX_LIBS = "usr/lib/postfix"
# Postfix 3.7's default import_environment: master passes only these to the daemons it starts.
_POSTFIX_ENVIRONMENT = ("MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ XAUTHORITY DISPLAY LANG=C "
                        "POSTLOG_SERVICE POSTLOG_HOSTNAME")


def _postfix_paths(master: Found) -> str:
    """main.cf lines that point a privately unpacked Postfix at its own files (the built-in
    defaults are the machine's /usr/lib/postfix and /etc/postfix); none for the machine's own."""
    if not master.private:
        return ""
    libs = master.root / _POSTFIX_LIBS
    return f"""daemon_directory = {master.path.parent}
shlib_directory = {libs}
meta_directory = {master.root / "etc/postfix"}
import_environment = {_POSTFIX_ENVIRONMENT} LD_LIBRARY_PATH={libs}
"""


def vsftpd(m: Material) -> Daemon:
    root = m.folder / "vsftpd"
    (root / "anon").mkdir(parents=True, exist_ok=True)
    (root / "empty").mkdir(parents=True, exist_ok=True)
    config = _write(root / "vsftpd.conf", f"""\
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port={FTP.port}
background=NO
anonymous_enable=YES
no_anon_password=YES
anon_root={root / "anon"}
local_enable=NO
write_enable=NO
pasv_enable=NO
secure_chroot_dir={root / "empty"}
nopriv_user=nobody
xferlog_enable=NO
syslog_enable=NO
vsftpd_log_file={root / "vsftpd.log"}
""")
    return Daemon("vsftpd", (str(m.program("vsftpd").path), str(config)), (FTP,))


def redis(m: Material) -> Daemon:
    folder = m.folder / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    return Daemon("redis", (str(m.program("redis").path), "--bind", "127.0.0.1", "--port", str(REDIS.port),
                            "--save", "", "--appendonly", "no", "--daemonize", "no",
                            "--protected-mode", "yes", "--dir", str(folder), "--logfile", ""),
                  (REDIS,))


def dnsmasq(m: Material) -> Daemon:
    config = _write(m.folder / "dnsmasq" / "dnsmasq.conf", f"""\
port={DNS_TCP.port}
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
no-poll
pid-file=
log-facility=-
""")
    return Daemon("dnsmasq", (str(m.program("dnsmasq").path), "-k", "-C", str(config)), (DNS_TCP, DNS_UDP))


def memcached(m: Material) -> Daemon:
    return Daemon("memcached", (str(m.program("memcached").path), "-u", "memcache", "-l", "127.0.0.1",
                                "-p", str(MEMCACHED.port), "-U", "0"), (MEMCACHED,))


def rpcbind(m: Material) -> Daemon:
    return Daemon("rpcbind", (str(m.program("rpcbind").path), "-f"), (RPCBIND_TCP, RPCBIND_UDP),
                  env=(("LD_PRELOAD", str(m.preload)),), private_run=())


def snmpd(m: Material) -> Daemon:
    folder = m.folder / "snmpd"
    config = _write(folder / "snmpd.conf", f"""\
agentaddress udp:127.0.0.1:{SNMP.port}
rocommunity public 127.0.0.1
sysLocation sigscan harness
sysContact root@{CERT_NAME}
""")
    # -I -smux: no SMUX listener (Debian's default opens 0.0.0.0:199); -C: no other config file.
    return Daemon("snmpd", (str(m.program("snmpd").path), "-f", "-Lo", "-C", "-c", str(config), "-I", "-smux"),
                  (SNMP,), env=(("SNMPCONFPATH", str(folder)), ("SNMP_PERSISTENT_DIR", str(folder)),
                                ("MIBS", "")))


def stunnel(m: Material) -> Daemon:
    config = _write(m.folder / "stunnel" / "stunnel.conf", f"""\
foreground = yes
pid =
[smtps]
accept = 127.0.0.1:{SMTPS.port}
connect = 127.0.0.1:{SMTP.port}
cert = {m.cert}
key = {m.key}
""")
    return Daemon("stunnel", (str(m.program("stunnel").path), str(config)), (SMTPS,))


def coturn(m: Material) -> Daemon:
    """coturn's STUN/TURN server on 3478 (UDP and TCP), no TLS/DTLS listener, no admin CLI, its
    user database and pid file in the harness folder."""
    folder = m.folder / "coturn"
    folder.mkdir(parents=True, exist_ok=True)
    return Daemon("coturn", (str(m.program("turnserver").path), "-n", "--listening-ip=127.0.0.1",
                             f"--listening-port={STUN.port}", "--no-tls", "--no-dtls", "--no-cli",
                             "--log-file=stdout", "--simple-log", f"--db={folder / 'turndb'}",
                             f"--pidfile={folder / 'turnserver.pid'}"), (STUN,))


def charon(m: Material) -> Daemon:
    """strongSwan's IKE daemon with one IKEv1 connection (aggressive mode allowed, a PSK), so
    that it answers Nmap's ike-version with an SA and its vendor IDs (``send_vendor_id``: its
    strongSwan ID too). It binds the wildcard address (the preload library makes it loopback);
    its pid file goes to a private ``/run``; the connection is loaded by ``swanctl`` as charon's
    start script, over a vici socket in the harness folder."""
    folder = m.folder / "charon"
    vici = f"unix://{folder / 'charon.vici'}"
    swanctl = _write(folder / "swanctl.conf", f"""\
connections {{
  ikev1 {{
    version = 1
    aggressive = yes
    local_addrs = 127.0.0.1
    proposals = aes256-sha1-modp1024,3des-sha1-modp1024,3des-md5-modp1024,des-md5-modp768
    local {{
      auth = psk
      id = vpn.{CERT_NAME}
    }}
    remote {{
      auth = psk
    }}
    children {{
      net {{
        local_ts = 127.0.0.1/32
      }}
    }}
  }}
}}
secrets {{
  ike-harness {{
    secret = "sigscan-harness-psk"
  }}
}}
""")
    load = f"{m.program('swanctl').path} --load-all --uri {vici} --file {swanctl}"
    config = _write(folder / "strongswan.conf", f"""\
charon {{
  port = {IKE.port}
  port_nat_t = 4500
  send_vendor_id = yes
  install_routes = no
  install_virtual_ip = no
  filelog {{
    stdout {{
      default = 1
    }}
  }}
  plugins {{
    vici {{
      socket = {vici}
    }}
  }}
  start-scripts {{
    load = {load}
  }}
}}
""")
    return Daemon("charon", (str(m.program("charon").path),), (IKE,),
                  env=(("STRONGSWAN_CONF", str(config)), ("LD_PRELOAD", str(m.preload))),
                  private_run=())


def pptpd(m: Material) -> Daemon:
    """pptpd on 127.0.0.1:1723 in the foreground (pppd is started only for a call)."""
    folder = m.folder / "pptpd"
    options = _write(folder / "options.pptpd", "name pptpd\n")
    config = _write(folder / "pptpd.conf", f"option {options}\nlocalip 10.255.0.1\n"
                                           "remoteip 10.255.0.2-9\n")
    return Daemon("pptpd", (str(m.program("pptpd").path), "-f", "-c", str(config), "-l", "127.0.0.1",
                            "-p", str(folder / "pptpd.pid")), (PPTP,))


def murmurd(m: Material) -> Daemon:
    """Mumble's server on 127.0.0.1:64738 (TCP control, UDP voice), running as the package's
    user. Its ban of an address after failed handshakes (which Nmap's probes are) is made
    certain: the first failure bans for an hour, so every scan of the TCP port after the first
    connection sees the same server (one that closes at once), whatever ran before it."""
    folder = m.folder / "murmurd"
    folder.mkdir(parents=True, exist_ok=True)
    owner = pwd.getpwnam("mumble-server")
    os.chown(folder, owner.pw_uid, owner.pw_gid)
    config = _write(folder / "murmur.ini", f"""\
database={folder / "murmur.sqlite"}
host=127.0.0.1
port={MURMUR_TCP.port}
ice=
logfile=
pidfile=
uname=mumble-server
registerName=
autobanAttempts=1
autobanTimeframe=3600
autobanTime=3600
""")
    return Daemon("murmurd", (str(m.program("murmurd").path), "-fg", "-ini", str(config)),
                  (MURMUR_TCP, MURMUR_UDP))


def mosquitto(m: Material) -> Daemon:
    """Mosquitto updates its ``$SYS`` topics every second (``sys_interval 1``; the default is
    10 s): a subscriber then gets a message at least every second (the uptime), so
    mqtt-subscribe, which listens 5 s but waits up to 7 s for each next message, ends after its
    5 s instead of waiting for the next 10 s update."""
    config = _write(m.folder / "mosquitto" / "mosquitto.conf", f"""\
listener {MQTT.port} 127.0.0.1
allow_anonymous true
persistence false
sys_interval 1
log_dest stdout
""")
    return Daemon("mosquitto", (str(m.program("mosquitto").path), "-c", str(config)), (MQTT,))


def rabbitmq(m: Material) -> Daemon:
    """RabbitMQ with its node's files (Mnesia, logs, the Erlang cookie in HOME) in the harness
    folder, no plugins (no management listener), AMQP on loopback; the Erlang port mapper and
    the distribution port bound to loopback too."""
    folder = m.folder / "rabbitmq"
    for name in ("home", "mnesia", "log"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    plugins = _write(folder / "enabled_plugins", "[].\n")
    config = _write(folder / "rabbitmq.conf", f"listeners.tcp.default = 127.0.0.1:{AMQP.port}\n")
    env = (("HOME", str(folder / "home")), ("RABBITMQ_MNESIA_BASE", str(folder / "mnesia")),
           ("RABBITMQ_LOG_BASE", str(folder / "log")), ("RABBITMQ_LOGS", "-"),
           ("RABBITMQ_ENABLED_PLUGINS_FILE", str(plugins)), ("RABBITMQ_CONFIG_FILE", str(config)),
           ("RABBITMQ_CONF_ENV_FILE", "/dev/null"), ("RABBITMQ_NODENAME", "rabbit@localhost"),
           ("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1"), ("ERL_EPMD_ADDRESS", "127.0.0.1"),
           ("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "-kernel inet_dist_use_interface {127,0,0,1}"))
    return Daemon("rabbitmq", (str(m.program("rabbitmq").path),), (AMQP,), env=env)


def prosody(m: Material) -> Daemon:
    """Prosody on the client and server ports only, serving ``localhost`` (STARTTLS with the
    shared certificate). A scan by address names no host (``to=''``): Prosody answers
    ``host-unknown``; a scan of ``localhost`` opens streams to it, STARTTLS included."""
    folder = m.folder / "prosody"
    (folder / "data").mkdir(parents=True, exist_ok=True)
    config = _write(folder / "prosody.cfg.lua", f"""\
run_as_root = true
pidfile = "{folder / "prosody.pid"}"
data_path = "{folder / "data"}"
plugin_paths = {{ }}
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {XMPP_CLIENT.port} }}
s2s_ports = {{ {XMPP_SERVER.port} }}
c2s_direct_tls_ports = {{ }}
s2s_direct_tls_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
modules_enabled = {{ "disco", "roster", "saslauth", "tls", "dialback", "ping", "register" }}
modules_disabled = {{ "posix" }}
log = {{ {{ levels = {{ min = "info" }}, to = "console" }} }}
ssl = {{ certificate = "{m.cert}", key = "{m.key}" }}
authentication = "internal_hashed"
VirtualHost "localhost"
""")
    return Daemon("prosody", (str(m.program("prosody").path), "--config", str(config), "-F"),
                  (XMPP_CLIENT, XMPP_SERVER))


def xinetd(m: Material) -> Daemon:
    """xinetd's built-in RFC 868 Time service, over TCP and UDP."""
    services = "".join(f"""\
service time
{{
    type = INTERNAL
    id = time-{kind}
    socket_type = {kind}
    protocol = {proto}
    user = root
    wait = {wait}
    bind = 127.0.0.1
}}
""" for kind, proto, wait in (("stream", "tcp", "no"), ("dgram", "udp", "yes")))
    config = _write(m.folder / "xinetd" / "xinetd.conf", f"defaults\n{{\n}}\n{services}")
    return Daemon("xinetd", (str(m.program("xinetd").path), "-dontfork", "-f", str(config)),
                  (TIME_TCP, TIME_UDP))


DAEMONS: tuple[Callable[[Material], Daemon], ...] = (
    sshd, nginx, postfix, vsftpd, redis, dnsmasq, memcached, rpcbind, snmpd, stunnel,
    coturn, charon, pptpd, murmurd,
    mosquitto, rabbitmq, prosody, xinetd,
)
