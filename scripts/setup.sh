#!/usr/bin/env bash
# One-command set-up for virtui on Debian 12, run as root. Idempotent.
#
#   bash scripts/setup.sh demo [virtui options]   install, then launch `virtui --demo`
#   bash scripts/setup.sh test [pytest options]   install, then ruff, mypy and the tests
#   bash scripts/setup.sh packages                 (root) the Debian packages and accounts only,
#                                                  for users who then run demo from their clone
#
# Installs the Debian packages libvirt-python builds against and the embedded QEMU
# driver needs, the accounts that driver expects, a .venv with virtui in it, and runs.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

mode=${1:-}
case "$mode" in
  demo|test|packages) shift ;;
  *) echo "usage: bash scripts/setup.sh demo|test|packages [options]" >&2; exit 2 ;;
esac

say() { printf 'setup: %s\n' "$*" >&2; }

packages=(
  # build libvirt-python from PyPI
  libvirt-dev pkg-config gcc python3-dev python3-venv
  # libvirt's embedded QEMU driver with real guests under TCG, and its tools
  libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86 qemu-utils libvirt-clients
  libxml2-utils
  # tests: hand-started daemons in their own mount and network namespaces
  iproute2 util-linux
  # the review desk's history of configurations is a git repository
  git
)
if [[ $mode == test ]]; then
  # tests of the fleet backend: a real Prometheus scraping real exporters (never started
  # as services here: the tests run their own on loopback ports)
  packages+=(prometheus prometheus-libvirt-exporter prometheus-node-exporter)
  # tests that drive the app as a person would: in tmux, and served to headless Chromium
  packages+=(tmux chromium)
  # the team desk's test: two OS accounts (useradd, runuser) and their processes
  packages+=(passwd procps)
  # the desk service's test: a member in another network namespace reaches it over ssh
  # (a private sshd on a veth address; the system's sshd is never started)
  packages+=(openssh-server openssh-client)
  # snapshot tests run again with the clock moved (libfaketime)
  packages+=(faketime)
  # virtual networks on a hand-started daemon: libvirt's network driver runs dnsmasq and
  # sets NAT rules with iptables (inside the daemon's own network namespace)
  packages+=(dnsmasq-base iptables)
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    say "missing Debian packages: ${missing[*]}"
    say "an admin installs them once with: sudo bash scripts/setup.sh packages"
    exit 1
  fi
  say "installing ${missing[*]}"
  # Wait for another apt or dpkg (an unattended upgrade, a second set-up) instead of failing.
  lock=(-o DPkg::Lock::Timeout=600)
  apt-get "${lock[@]}" update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get "${lock[@]}" install -y -q --no-install-recommends \
    "${missing[@]}" >&2
fi

# libvirt's QEMU driver refuses to start unless these exist, even when told to run as root.
if [[ $(id -u) -eq 0 ]]; then
  getent group kvm >/dev/null || groupadd -r kvm
  getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
  id -u libvirt-qemu >/dev/null 2>&1 || useradd -r -g kvm -s /usr/sbin/nologin libvirt-qemu
fi

if [[ $mode == packages ]]; then
  say "packages and accounts are in place; users now run: bash scripts/setup.sh demo"
  exit 0
fi

python=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  say "creating .venv with $($python --version 2>&1)"
  "$python" -m venv .venv
fi
stamp=.venv/.virtui-setup
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  say "installing virtui and its pinned dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip >&2
  .venv/bin/python -m pip install -q -e '.[dev]' >&2
  echo "$want" > "$stamp"
fi

case "$mode" in
  demo)
    exec .venv/bin/virtui --demo "$@"
    ;;
  test)
    say "ruff"
    .venv/bin/ruff check src tests benchmarks scripts
    .venv/bin/ruff format --check src tests benchmarks scripts
    say "mypy"
    .venv/bin/mypy
    say "pytest"
    # On every core and then some: most tests wait on daemons, guests and terminals.
    # Tests that share a fixed resource carry one xdist_group and run on one worker.
    exec .venv/bin/python -m pytest -n "${VIRTUI_TEST_WORKERS:-4}" --dist loadgroup "$@"
    ;;
esac
