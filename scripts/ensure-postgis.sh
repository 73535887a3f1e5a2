#!/usr/bin/env bash
# Make sure the test PostgreSQL (VOLMATCH_TEST_POSTGRES_URL, default 127.0.0.1:5432/test) has
# PostGIS: install Debian's postgresql-<major>-postgis-3 when the extension is missing (needs
# root), then create the extension. In CI (CI=true) any failure here fails the run; on a laptop
# without PostgreSQL it explains and lets the PostGIS tests skip.
set -uo pipefail
URL="${VOLMATCH_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}"
in_ci() { [ "${CI:-}" = "true" ]; }
give_up() {
  if in_ci; then echo "ensure-postgis: $1" >&2; exit 1; fi
  echo "ensure-postgis: $1 -- PostGIS tests will be skipped on this machine." >&2
  exit 0
}
command -v psql >/dev/null || give_up "psql is not installed"
psql "$URL" -qtAc "select 1" >/dev/null 2>&1 || give_up "no PostgreSQL answers at $URL"
available=$(psql "$URL" -qtAc "select count(*) from pg_available_extensions where name = 'postgis'")
if [ "$available" != "1" ]; then
  major=$(psql "$URL" -qtAc "select current_setting('server_version_num')::int / 10000")
  [ "$(id -u)" = "0" ] || give_up "PostGIS is missing and installing it needs root (apt-get install postgresql-$major-postgis-3)"
  echo "ensure-postgis: installing postgresql-$major-postgis-3" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || give_up "apt-get update failed"
  apt-get install -y -qq "postgresql-$major-postgis-3" >/dev/null || give_up "apt-get install postgresql-$major-postgis-3 failed"
fi
psql "$URL" -qtAc "create extension if not exists postgis" >/dev/null || give_up "cannot create the postgis extension"
echo "ensure-postgis: PostGIS $(psql "$URL" -qtAc 'select postgis_lib_version()') ready at $URL" >&2
