#!/usr/bin/env bash
# Benchmark: the Quader gateway vs nginx proxy_pass vs HAProxy in front of the
# same upstream, same wrk settings, in one run; plus the gateway with a 50/50
# split and with a 100% mirror (loss vs plain). Issue 6 goals: gateway rps
# >= 1.0x nginx and p99 <= nginx's; split and mirror loss < 10%.
#
#   bench/gateway_proxy.sh [build-dir] [seconds]
#
# Everything runs on loopback on this machine (proxies as root in the
# foreground with private configs in a temp dir, never the system services),
# so the proxies share the CPUs with wrk and the upstream: compare ratios,
# not absolute numbers. Knobs: CONNS (64), THREADS (wrk threads, 2),
# WORKERS (proxy worker processes/threads, 2), ROUNDS (3).
set -euo pipefail
build=$(realpath "${1:-build}")
secs=${2:-10}
conns=${CONNS:-64}
wthreads=${THREADS:-2}
workers=${WORKERS:-2}
bin=$build/bench/gateway_proxy_bench
[[ -x $bin ]] || { echo "missing $bin: cmake --build $build --target gateway_proxy_bench" >&2; exit 1; }
for tool in wrk nginx haproxy; do
  command -v $tool >/dev/null || [[ -x /usr/sbin/$tool ]] || { echo "$tool is missing: run scripts/install-deps.sh" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)

work=$(mktemp -d /tmp/quader-gwbench-XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }

up=$(free_port); mirror=$(free_port)
"$bin" upstream "$up" 2 & pids+=($!); up_pid=$!
"$bin" upstream "$mirror" 1 & pids+=($!); mirror_pid=$!
wait_port "$up"; wait_port "$mirror"

# Quader gateway: plain, split, mirror (each its own process and port).
gw=$(free_port); gws=$(free_port); gwm=$(free_port)
"$bin" gateway "$gw" plain "$up" 0 "$workers" >"$work/gw.log" 2>&1 & pids+=($!); gw_pid=$!
"$bin" gateway "$gws" split "$up" 0 "$workers" >"$work/gws.log" 2>&1 & pids+=($!); gws_pid=$!
"$bin" gateway "$gwm" mirror "$up" "$mirror" "$workers" >"$work/gwm.log" 2>&1 & pids+=($!); gwm_pid=$!

# nginx: proxy_pass with a keepalive upstream pool.
ng=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<CONF
worker_processes $workers;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  upstream app { server 127.0.0.1:$up; keepalive 128; }
  server {
    listen 127.0.0.1:$ng;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
    }
  }
}
CONF
"$NGINX" -c "$work/nginx.conf" -e "$work/nginx/error.log" & pids+=($!); ng_pid=$!

# HAProxy: HTTP mode, connection reuse.
hp=$(free_port)
cat >"$work/haproxy.cfg" <<CONF
global
  nbthread $workers
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend fe
  bind 127.0.0.1:$hp
  default_backend app
backend app
  server s1 127.0.0.1:$up
CONF
"$HAPROXY" -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 & pids+=($!); hp_pid=$!

for p in "$gw" "$gws" "$gwm" "$ng" "$hp"; do wait_port "$p"; done

# One wrk run: prints "rps p50_ms p99_ms errors".
run() {
  local port=$1 cpu_pids=$2 out t0 t1
  t0=$(cpu_ticks $cpu_pids)
  out=$(wrk -t"$wthreads" -c"$conns" -d"${secs}s" --latency -H "Host: bench.service.local" "http://127.0.0.1:$port/" 2>&1)
  t1=$(cpu_ticks $cpu_pids)
  local rps p50 p99 errs total cpu
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  errs=$(awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' <<<"$out")
  # Proxy CPU (user + system) per request, in microseconds: robust to a
  # busy machine, unlike rps.
  cpu=$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$total" 'BEGIN { printf "%.1f", n ? d / hz * 1e6 / n : 0 }')
  echo "$rps $(to_ms "$p50") $(to_ms "$p99") $cpu ${errs:-none}"
}
# utime + stime ticks of the given processes and their children (nginx workers).
cpu_ticks() {
  local total=0 p
  for p in "$@" $(for q in "$@"; do ps -o pid= --ppid "$q" 2>/dev/null; done); do
    [[ -r /proc/$p/stat ]] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$total"
}
to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us/, "", v); print v/1000 } else if (v ~ /ms$/) { sub(/ms/, "", v); print v+0 } else if (v ~ /s$/) { sub(/s/, "", v); print v*1000 } else print v }'; }

# Warm-up (pools, caches), then the measured runs, in the same order.
for p in "$up" "$gw" "$ng" "$hp"; do wrk -t1 -c8 -d1s -H "Host: bench.service.local" "http://127.0.0.1:$p/" >/dev/null 2>&1; done

rounds=${ROUNDS:-3}
targets=(direct quader nginx haproxy quader_split quader_mirror)
pids_of() {
  case $1 in
    direct) echo "$up_pid" ;; quader) echo "$gw_pid" ;; nginx) echo "$ng_pid" ;; haproxy) echo "$hp_pid" ;;
    quader_split) echo "$gws_pid" ;; quader_mirror) echo "$gwm_pid" ;;
  esac
}
port_of() {
  case $1 in
    direct) echo "$up" ;; quader) echo "$gw" ;; nginx) echo "$ng" ;; haproxy) echo "$hp" ;;
    quader_split) echo "$gws" ;; quader_mirror) echo "$gwm" ;;
  esac
}
# Rounds interleave the targets so that a noisy neighbour hurts all alike;
# each figure is the median over the rounds.
declare -A RUNS
for ((round = 1; round <= rounds; round++)); do
  for name in "${targets[@]}"; do
    RUNS[$name]+="$(run "$(port_of "$name")" "$(pids_of "$name")")"$'\n'
  done
done
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "gateway_proxy: wrk -t$wthreads -c$conns -d${secs}s x $rounds rounds (medians), $workers proxy workers, $(nproc) CPUs, body 24 B"
printf '%-22s %12s %10s %10s %14s  %s\n' target rps p50_ms p99_ms proxy_cpu_us/req errors
declare -A R
for name in "${targets[@]}"; do
  runs=${RUNS[$name]}
  rps=$(awk 'NF {print $1}' <<<"$runs" | median)
  p50=$(awk 'NF {print $2}' <<<"$runs" | median)
  p99=$(awk 'NF {print $3}' <<<"$runs" | median)
  cpu=$(awk 'NF {print $4}' <<<"$runs" | median)
  errs=$(awk 'NF { $1 = $2 = $3 = $4 = ""; print }' <<<"$runs" | sort -u | tr -s ' \n' ' ')
  R[$name]="$rps $p50 $p99 $cpu"
  printf '%-22s %12.0f %10.2f %10.2f %14s  %s\n' "$name" "$rps" "$p50" "$p99" "$cpu" "$errs"
done
read -r q_rps _ q_p99 q_cpu <<<"${R[quader]}"
read -r n_rps _ n_p99 n_cpu <<<"${R[nginx]}"
read -r h_rps _ _ h_cpu <<<"${R[haproxy]}"
read -r s_rps _ _ s_cpu <<<"${R[quader_split]}"
read -r m_rps _ _ m_cpu <<<"${R[quader_mirror]}"
awk -v q="$q_rps" -v n="$n_rps" -v h="$h_rps" -v qp="$q_p99" -v np="$n_p99" -v s="$s_rps" -v m="$m_rps" \
    -v qc="$q_cpu" -v nc="$n_cpu" -v hc="$h_cpu" -v sc="$s_cpu" -v mc="$m_cpu" 'BEGIN {
  printf "ratio quader/nginx rps: %.2fx (goal >= 1.0x); p99 quader %.2f ms vs nginx %.2f ms\n", q/n, qp, np
  printf "ratio quader/haproxy rps: %.2fx\n", q/h
  printf "proxy CPU per request: quader %.1f us, nginx %.1f us (%.2fx), haproxy %.1f us\n", qc, nc, qc/nc, hc
  printf "split 50/50 loss vs plain: %.1f%% rps, %+.1f%% gateway CPU per request (goal < 10%%)\n", (1 - s/q) * 100, (sc/qc - 1) * 100
  printf "mirror 100%% loss vs plain: %.1f%% rps, %+.1f%% gateway CPU per request (goal < 10%%)\n", (1 - m/q) * 100, (mc/qc - 1) * 100
}'
kill "${pids[@]:2}" 2>/dev/null || true
sleep 0.3
cat "$work"/gw*.log | grep -h "^gateway(" || true
