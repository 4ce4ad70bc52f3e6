#!/usr/bin/env bash
# Benchmark: GET /api/v1/projects returning 1,000 projects, requests/s with
# wrk, side by side in one run with nginx serving the same JSON body as a
# static file; plus the idle server's resident memory.
#
#   bench/api_list_projects.sh [build/quader] [seconds]
#
# Prints one table; the ratio quader/nginx is the figure to quote (these
# machines are noisy, absolute numbers drift).
set -euo pipefail
bin=$(realpath "${1:-build/quader}")
secs=${2:-10}
conns=${CONNS:-32}
work=$(mktemp -d /tmp/quader-bench-XXXXXX)
chmod 755 "$work"  # nginx workers run unprivileged
cleanup() {
  [[ -n ${qpid:-} ]] && kill "$qpid" 2>/dev/null || true
  [[ -f $work/nginx.pid ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
command -v wrk >/dev/null || { echo "wrk is missing: run scripts/install-deps.sh" >&2; exit 1; }
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || { echo "nginx is missing" >&2; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

QUADER_ADMIN_PASSWORD=bench-admin-pw "$bin" server --data "$work/data" --listen 127.0.0.1:0 --gateway-listen 127.0.0.1:0 \
  --log-level warn >"$work/server.log" 2>&1 &
qpid=$!
for _ in $(seq 100); do [[ -f $work/data/server.json ]] && break; sleep 0.1; done
api=$(sed -n 's/.*"api": "\([^"]*\)".*/\1/p' "$work/data/server.json")
token=$(curl -sf -X POST "$api/api/v1/login" -d '{"username":"admin","password":"bench-admin-pw"}' |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
idle_rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$qpid/status)

# 1,000 projects (999 + public), in one apply.
for i in $(seq -w 1 999); do
  printf 'kind: Project\nname: bench-%s\ndescription: benchmark project %s\n---\n' "$i" "$i"
done >"$work/projects.yaml"
curl -sf -X POST "$api/api/v1/apply" -H "Authorization: Bearer $token" --data-binary @"$work/projects.yaml" >/dev/null
curl -sf "$api/api/v1/projects" -H "Authorization: Bearer $token" -o "$work/projects.json"
count=$(grep -o '"name":' "$work/projects.json" | wc -l)
bytes=$(stat -c %s "$work/projects.json")

# nginx serving the same body as a static file, on a free port.
mkdir -p "$work/www/api/v1" "$work/nginx"
cp "$work/projects.json" "$work/www/api/v1/projects"
nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  default_type application/json;
  server { listen 127.0.0.1:$nport; root $work/www; }
}
CONF
"$NGINX" -c "$work/nginx.conf" -p "$work"
sleep 0.3
curl -sf "http://127.0.0.1:$nport/api/v1/projects" -o /dev/null

rps() { awk '/Requests\/sec/ {print $2}'; }
echo "# GET /api/v1/projects: $count projects, $bytes bytes, wrk -t2 -c$conns -d${secs}s, $(nproc) cores"
q=$(wrk -t2 -c"$conns" -d"${secs}s" -H "Authorization: Bearer $token" "$api/api/v1/projects" | rps)
n=$(wrk -t2 -c"$conns" -d"${secs}s" "http://127.0.0.1:$nport/api/v1/projects" | rps)
busy_rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$qpid/status)
printf '%-28s %12s\n' "peer" "requests/s"
printf '%-28s %12s\n' "quader (SQLite, auth, JSON)" "$q"
printf '%-28s %12s\n' "nginx (static file)" "$n"
awk -v q="$q" -v n="$n" 'BEGIN { printf "ratio quader/nginx: %.2f (goal >= 0.3)\n", q / n }'
awk -v a="$idle_rss_kb" -v b="$busy_rss_kb" 'BEGIN { printf "server resident memory: idle %.1f MB (goal < 50), after the load %.1f MB\n", a / 1024, b / 1024 }'
