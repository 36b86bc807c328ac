#!/usr/bin/env bash
# System programs that test suites need (Orthanc, DCMTK, PostgreSQL, chromium, python3-nibabel …),
# from Debian's packages.
#
#   scripts/test-env.sh check PKG...     exit 0 when every PKG is installed, 1 otherwise
#   scripts/test-env.sh install PKG...   install the missing ones with apt-get (root only)
#
# Test files run in parallel, so every apt-get call holds one lock (flock), and `apt-get update`
# runs at most once an hour (a stamp file records when it last succeeded).
set -euo pipefail

LOCK=/tmp/voxgate-apt.lock
UPDATE_STAMP=/tmp/voxgate-apt-updated.stamp
UPDATE_MAX_AGE_MIN=60

say() { printf '\n*** test-env: %s ***\n\n' "$*" >&2; }

usage() {
  echo "usage: $0 check|install PKG..." >&2
  exit 2
}

# True when every named package is installed (dpkg's status "install ok installed").
installed() {
  local pkg status
  for pkg in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) || return 1
    [[ $status == "install ok installed" ]] || return 1
  done
}

# Runs under the lock: update the package lists unless done within the last hour, then install.
# Explicit `|| return 1`: it is called after `||`, where `set -e` does not apply.
install_locked() {
  export DEBIAN_FRONTEND=noninteractive
  # Wait for a dpkg lock that something other than this script holds (unattended-upgrades).
  local apt=(apt-get -q -o DPkg::Lock::Timeout=300)
  if [[ -z $(find "$UPDATE_STAMP" -mmin "-$UPDATE_MAX_AGE_MIN" 2>/dev/null) ]]; then
    "${apt[@]}" update >&2 || return 1
    touch "$UPDATE_STAMP"
  fi
  "${apt[@]}" install -y --no-install-recommends "$@" >&2
}

[[ $# -ge 2 ]] || usage
command=$1
shift

case $command in
  check)
    installed "$@"
    ;;
  install)
    if installed "$@"; then
      exit 0
    fi
    if [[ $(id -u) -ne 0 ]]; then
      say "cannot install $* : not root (run as root, or: sudo apt-get install $*)"
      exit 1
    fi
    # Another test file may have installed them while we waited for the lock: check again inside.
    export -f installed install_locked
    export UPDATE_STAMP UPDATE_MAX_AGE_MIN
    if ! flock "$LOCK" bash -c 'set -euo pipefail; installed "$@" || install_locked "$@"' _ "$@"; then
      say "apt-get install $* failed (see the apt-get output above)"
      exit 1
    fi
    if ! installed "$@"; then
      say "apt-get finished but $* still not installed"
      exit 1
    fi
    ;;
  *)
    usage
    ;;
esac
