#!/usr/bin/env bash
# Installs what sigc needs on a Debian machine: Nmap (its database is sigc's input, its binary
# the reference we compare with), a virtual environment in .venv, and sigc itself.
# Usage: scripts/setup.sh [--dev]   (--dev adds the test and lint tools)
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(nmap)
if [[ "${1:-}" == "--dev" ]]; then
    apt_packages+=(ndiff libxml2-utils)  # ndiff and xmllint read the -oX output in the tests
    # Real daemons of tests/services (started by the tests in a network namespace of their own),
    # and what the harness uses: iproute2 (ip netns, ss), gcc (its LD_PRELOAD shim), openssl.
    apt_packages+=(openssh-server nginx postfix vsftpd redis-server dnsmasq memcached rpcbind
                   snmpd stunnel4 iproute2 gcc libc6-dev openssl)
fi

missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]} with apt-get" >&2
    sudo_cmd=()
    if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update -qq
    # Postfix asks debconf questions: answer them first.
    printf '%s\n' "postfix postfix/main_mailer_type select Local only" \
        "postfix postfix/mailname string sigscan.test" | "${sudo_cmd[@]}" debconf-set-selections
    # Without systemd, invoke-rc.d would run the new daemons' init scripts (listening on every
    # interface): a policy-rc.d that says no, for the time of the install, unless one exists.
    guard=""
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        guard=/usr/sbin/policy-rc.d
        trap '"${sudo_cmd[@]}" rm -f "$guard"' EXIT
        printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$guard" >/dev/null
        "${sudo_cmd[@]}" chmod 755 "$guard"
    fi
    # --no-remove: stop rather than replace a conflicting MTA or FTP server already installed.
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        --no-remove "${missing[@]}" >/dev/null
    if [[ -n $guard ]]; then "${sudo_cmd[@]}" rm -f "$guard"; trap - EXIT; fi
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup: sigc needs Python 3.11 or newer; $python is $("$python" --version 2>&1)" >&2
    exit 2
fi
if [[ ! -x .venv/bin/python ]]; then
    "$python" -m venv .venv
fi
extras=""
if [[ "${1:-}" == "--dev" ]]; then extras="[dev]"; fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}" 2>&1 | grep -v "^WARNING: Location" >&2 || true
.venv/bin/python -c 'import sigc, sigscan' || { echo "setup: installing sigc failed" >&2; exit 1; }
