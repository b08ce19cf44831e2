#!/usr/bin/env bash
# Installs what sigc needs on a Debian machine: Nmap (its database is sigc's input, its binary
# the reference we compare with), a virtual environment in .venv, and sigc itself.
# Usage: scripts/setup.sh [--dev]   (--dev adds the test and lint tools and the test daemons)
#
# The machine's own packages are never removed or replaced: a package apt could install only by
# removing one the machine has (vsftpd where proftpd is, postfix where exim4 is) is unpacked into
# .deps/root instead, and the tests run it from there (scripts/packages.py decides, with apt).
# A second run, with everything there, changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=()
if [[ "${1:-}" == "--dev" ]]; then dev=(--dev); fi
private=.deps

as_root() {
    if ((EUID)); then sudo "$@"; else "$@"; fi
}

# Install PACKAGES with apt: no recommends, nothing removed, no daemon started.
apt_install() {
    echo "setup: installing $* with apt-get" >&2
    # Postfix asks debconf questions: answer them first.
    printf '%s\n' "postfix postfix/main_mailer_type select Local only" \
        "postfix postfix/mailname string sigscan.test" | as_root debconf-set-selections
    # Without systemd, invoke-rc.d would run the new daemons' init scripts (listening on every
    # interface): a policy-rc.d that says no, for the time of the install, unless one exists.
    local guard=""
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        guard=/usr/sbin/policy-rc.d
        trap 'as_root rm -f /usr/sbin/policy-rc.d' EXIT
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$guard" >/dev/null
        as_root chmod 755 "$guard"
    fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
        --no-remove "$@" >/dev/null
    if [[ -n $guard ]]; then as_root rm -f "$guard"; trap - EXIT; fi
}

# The accounts the harness runs a privately unpacked postfix as (its maintainer scripts, which
# did not run, would have made them): unprivileged, no login, no home.
add_postfix_accounts() {
    getent group postdrop >/dev/null || as_root groupadd --system postdrop
    getent passwd postfix >/dev/null || as_root useradd --system --user-group \
        --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin postfix
}

debian_packages() {
    if ! command -v python3 >/dev/null; then  # scripts/packages.py needs it
        as_root apt-get update -qq
        apt_install python3
    fi
    local out missing=() plan install=() unpack=() what names
    out=$(python3 scripts/packages.py missing "${dev[@]}" --private "$private")
    read -ra missing <<<"$out"
    if ((${#missing[@]} == 0)); then return; fi
    as_root apt-get update -qq
    plan=$(python3 scripts/packages.py plan --private "$private" "${missing[@]}")
    while read -r what names; do
        case $what in
            install) read -ra install <<<"$names" ;;
            private) read -ra unpack <<<"$names" ;;
        esac
    done <<<"$plan"
    if ((${#install[@]})); then apt_install "${install[@]}"; fi
    if ((${#unpack[@]})); then
        echo "setup: ${unpack[*]} would replace installed packages: unpacking into $private/root" >&2
        python3 scripts/packages.py unpack --private "$private" "${unpack[@]}" >&2
        if [[ " ${unpack[*]} " == *" postfix "* ]]; then add_postfix_accounts; fi
    fi
}

# The virtual environment, and sigc installed in it unless it already is from this pyproject.toml.
virtual_env() {
    local python=${PYTHON:-python3} extras="" stamp=.venv/setup-stamp want
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "setup: sigc needs Python 3.11 or newer; $python is $("$python" --version 2>&1)" >&2
        exit 2
    fi
    if [[ ! -x .venv/bin/python ]]; then "$python" -m venv .venv; fi
    if ((${#dev[@]})); then extras="[dev]"; fi
    want="$(sha256sum pyproject.toml | cut -d' ' -f1) $extras"
    # an install with [dev] serves a run without it
    if [[ -f $stamp ]] && grep -qxF -e "$want" -e "${want% *} [dev]" "$stamp" \
        && .venv/bin/python -c 'import sigc, sigscan' 2>/dev/null; then
        return
    fi
    # the development install was called sigc before the halves got distributions of their own
    # (sigscan, sigscan-compiler; this one is sigscan-dev): an editable sigc of this folder goes
    if .venv/bin/python - "$PWD" <<'PY'
import importlib.metadata as m, json, sys
try:
    url = json.loads(m.distribution("sigc").read_text("direct_url.json") or "{}").get("url")
except m.PackageNotFoundError:
    url = None
sys.exit(url != "file://" + sys.argv[1])
PY
    then
        .venv/bin/python -m pip uninstall -q -y sigc >&2
    fi
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}" 2>&1 \
        | grep -v "^WARNING: Location" >&2 || true
    .venv/bin/python -c 'import sigc, sigscan' || { echo "setup: installing sigc failed" >&2; exit 1; }
    echo "$want" >"$stamp"
}

# The regex wheel tests/dist installs into a fresh virtual environment beside the runtime's
# wheel, so that those tests need no network: the version .venv has, downloaded once.
regex_wheel() {
    local version
    version=$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("regex"))')
    if compgen -G "$private/wheels/regex-$version-*.whl" >/dev/null; then return; fi
    echo "setup: downloading the regex $version wheel into $private/wheels" >&2
    .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
        -d "$private/wheels" "regex==$version" >&2
}

debian_packages
virtual_env
if ((${#dev[@]})); then regex_wheel; fi
