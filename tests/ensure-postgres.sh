#!/bin/sh
# The test suite starts a throwaway PostgreSQL cluster; this makes sure the server is here.
if [ -n "$MILEAGE_TEST_PG_URL" ]; then exit 0; fi
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then exit 0; fi
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && exit 0; done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "PostgreSQL is missing: installing Debian's postgresql package" >&2
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql && exit 0
fi
echo "PostgreSQL is missing and could not be installed here. Run:" >&2
echo "    sudo apt-get update && sudo apt-get install -y postgresql" >&2
exit 1
