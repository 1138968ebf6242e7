# Shared by scripts/test and scripts/bench: installing missing Debian packages and running a
# throwaway PostgreSQL cluster on loopback. Source it; it defines functions only.

# ensure_packages PKG... installs the Debian packages whose commands are missing.
# Each argument is "package" or "package:command" when the two names differ.
ensure_packages() {
  local missing=() spec pkg cmd
  for spec in "$@"; do
    pkg=${spec%%:*}
    cmd=${spec#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] || install_packages "${missing[@]}"
}

install_packages() {
  echo "==> Installing $*" >&2
  local sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update >&2
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y --no-install-recommends "$@" >&2
}

# start_postgres PORT [durable] starts a trusted cluster on 127.0.0.1:PORT in a temporary
# directory and sets PG_URL, PG_BIN and PG_DIR. Tests run it with fsync off for speed;
# "durable" keeps PostgreSQL's defaults, for benchmarks. Pair it with stop_postgres.
start_postgres() {
  local port=$1 durability="-c fsync=off -c full_page_writes=off"
  [ "${2:-}" != durable ] || durability=""
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || install_packages postgresql
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  PG_DIR=$(mktemp -d /tmp/watchkeeper-pg.XXXXXX)
  PG_AS=()
  if [ "$(id -u)" -eq 0 ]; then
    # PostgreSQL refuses to run as root.
    chown postgres "$PG_DIR"
    PG_AS=(runuser -u postgres --)
  fi
  echo "==> Starting PostgreSQL ($("$PG_BIN/postgres" --version)) on 127.0.0.1:$port" >&2
  "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w start \
    -o "-k $PG_DIR -p $port -c listen_addresses=127.0.0.1 -c max_connections=300 $durability" >/dev/null
  PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

stop_postgres() {
  [ -n "${PG_DIR:-}" ] || return 0
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=""
}

# peers_python VENV PACKAGE... makes (once) a Python virtual environment at VENV holding the
# PyPI peers the tests and benchmarks compare against (pinned versions), and sets
# PEERS_PYTHON to its interpreter.
peers_python() {
  local venv=$1
  shift
  if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    install_packages python3 python3-venv
  fi
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  echo "==> Python peers: $*" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >&2
  PEERS_PYTHON=$venv/bin/python
}
