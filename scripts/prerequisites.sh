#!/usr/bin/env bash
# The Debian packages the tests need, checked before any test runs (npm test and .ci/run call this).
# As root, what is missing is installed; otherwise the script stops with the one line to run.
#   chromium          the browser tests (playwright-core drives /usr/bin/chromium)
#   openssl           the test rig's certificate authority
#   dovecot-imapd     the rig's IMAP server
#   dovecot-lmtpd     delivery into it from the rig's SMTP server
#   dovecot-auth-lua  the rig's app-only check (role and mailbox permission, as Exchange does)
#   postgresql        the PostgreSQL tests (each starts a throwaway cluster of its own with initdb)
#   haproxy           the several-instances test (two portals behind a load balancer)
#   curl              the README's send example, run as it is written
# --check only checks, never installs.
set -euo pipefail

PACKAGES=(chromium openssl dovecot-imapd dovecot-lmtpd dovecot-auth-lua postgresql haproxy curl)

check_only=false
[ "${1:-}" = "--check" ] && check_only=true

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "Not a Debian system: make sure these packages (or their equivalents) are installed: ${PACKAGES[*]}." >&2
  exit 0
fi

missing=()
for package in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$package")
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || $check_only; then
    {
      echo "The tests need Debian packages that are not installed: ${missing[*]}."
      echo "Install them, then run the tests again:"
      echo
      echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
      echo
    } >&2
    exit 1
  fi
  echo "Installing the Debian packages the tests need: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# A Dovecot running as a system service listens on the mail ports that the test rig binds on loopback.
if [ -s /run/dovecot/master.pid ] && kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null; then
  if [ "$(id -u)" -ne 0 ] || $check_only; then
    echo "A system Dovecot is running and holds the mail ports the tests use. Stop it first: sudo doveadm stop" >&2
    exit 1
  fi
  echo "Stopping the system Dovecot: the test rig uses the mail ports on loopback."
  doveadm stop >/dev/null 2>&1 || kill "$(cat /run/dovecot/master.pid)" || true
fi
