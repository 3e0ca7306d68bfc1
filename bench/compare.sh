#!/usr/bin/env bash
# Side-by-side benchmark: atlas-ca against the tools a user would otherwise
# script (openssl CLI, mkcert, easy-rsa) and against the floor (raw key
# generation in one process), on the same work, in one run. Prints markdown
# tables with seconds per certificate and ratios (tool / atlas-ca).
#
#   bash bench/compare.sh            # N=50 certificates per tool and key type
#   N=10 TYPES="ec-p256" bash bench/compare.sh
#
# Installs mkcert, easy-rsa and strace from Debian's packages if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-50}
TYPES=${TYPES:-"rsa-2048 ec-p256 rsa-4096"}
SERVER_N=${SERVER_N:-20}
# fixtures runs per job count; the median is reported (RSA rows are noisy).
REPEAT=${REPEAT:-3}

need=()
for pkg in mkcert easy-rsa curl strace; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
if ((${#need[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
cargo build --release -q
cargo bench --bench keygen --no-run -q 2>/dev/null
KEYGEN=$(ls -t target/release/deps/keygen-* | grep -v '\.d$' | head -1)
ATLAS=$PWD/target/release/atlas-ca
EASYRSA=/usr/share/easy-rsa/easyrsa
# On disk (the target directory), not a tmpfs: syncs cost what they cost.
mkdir -p target
WORK=$(mktemp -d -p "$PWD/target" bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
GID=5efda6aea3f2ed2e7dd6ce05
ACCEPT_V2="application/vnd.atlas.2023-01-01+json"

now() { date +%s.%N; }
# Milliseconds per certificate between two `now` stamps.
per() { python3 -c "print(f'{($2 - $1) / $3 * 1000:.2f}')" "$@"; }
ratio() { python3 -c "import sys; a,b=map(float,sys.argv[1:]); print(f'{a/b:.2f}x' if b > 0 else '-')" "$1" "$2"; }

new_home() {
  local h=$WORK/home-$RANDOM$RANDOM
  mkdir -p "$h"
  printf '[[projects]]\nid = "%s"\n[[projects.databaseUsers]]\nusername = "alice"\nx509Type = "MANAGED"\n' "$GID" > "$h/users.toml"
  echo "$h"
}

openssl_alg() {
  case $1 in
    rsa-*) echo "-algorithm RSA -pkeyopt rsa_keygen_bits:${1#rsa-}" ;;
    ec-p256) echo "-algorithm EC -pkeyopt ec_paramgen_curve:P-256" ;;
    ec-p384) echo "-algorithm EC -pkeyopt ec_paramgen_curve:P-384" ;;
  esac
}

# --- each tool: issue N client certificates; prints seconds per certificate
atlas_process() { # one atlas-ca process per certificate, CA already made
  local h; h=$(new_home); "$ATLAS" --home "$h" ca cert >/dev/null 2>&1
  local t0; t0=$(now)
  for i in $(seq "$N"); do "$ATLAS" --home "$h" dbusers certs create --username alice --key-type "$1" --monthsUntilExpiration 24 --out "$h/c$i.pem"; done
  per "$t0" "$(now)" "$N"
}
atlas_fixtures() { # one fixtures run, $2 jobs
  local h; h=$(new_home); "$ATLAS" --home "$h" ca cert >/dev/null 2>&1
  local t0; t0=$(now)
  "$ATLAS" --home "$h" fixtures --out "$h/fx" --count-per-user "$N" --key-type "$1" --jobs "$2" --quiet
  per "$t0" "$(now)" "$N"
}
fixtures_pair() { # REPEAT runs with 1 job and with $2, interleaved; prints the two medians
  local one=() many=()
  for _ in $(seq "$REPEAT"); do one+=("$(atlas_fixtures "$1" 1)"); many+=("$(atlas_fixtures "$1" "$2")"); done
  python3 -c "import statistics,sys; n=int(sys.argv[1]); v=list(map(float,sys.argv[2:])); print(f'{statistics.median(v[:n]):.2f} {statistics.median(v[n:]):.2f}')" "$REPEAT" "${one[@]}" "${many[@]}"
}
openssl_pipeline() { # genpkey + req + x509 per certificate
  local d=$WORK/ossl-$RANDOM; mkdir -p "$d"
  openssl req -x509 -newkey rsa:4096 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -subj "/CN=$GID/OU=Atlas/O=MongoDB Inc" -days 3650 2>/dev/null
  printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=critical,clientAuth\n' > "$d/ext"
  local t0; t0=$(now)
  for i in $(seq "$N"); do
    # shellcheck disable=SC2046
    openssl genpkey $(openssl_alg "$1") -out "$d/k$i.pem" 2>/dev/null
    openssl req -new -key "$d/k$i.pem" -subj "/CN=alice" -out "$d/r$i.csr"
    openssl x509 -req -in "$d/r$i.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 90 -sha256 -extfile "$d/ext" -out "$d/c$i.pem" 2>/dev/null
  done
  per "$t0" "$(now)" "$N"
}
mkcert_run() { # RSA-2048 or ECDSA P-256 only
  local flag=""
  case $1 in rsa-2048) ;; ec-p256) flag=-ecdsa ;; *) echo "-"; return ;; esac
  local d=$WORK/mkcert-$RANDOM; mkdir -p "$d"
  (cd "$d" && CAROOT=$d mkcert -client alice >/dev/null 2>&1) || true  # makes the CA
  local t0; t0=$(now)
  for i in $(seq "$N"); do
    (cd "$d" && CAROOT=$d mkcert -client $flag -cert-file "c$i.pem" -key-file "k$i.pem" alice >/dev/null 2>&1)
  done
  per "$t0" "$(now)" "$N"
}
easyrsa_run() {
  local d=$WORK/easyrsa-$RANDOM; mkdir -p "$d"
  local algo=(EASYRSA_ALGO=rsa "EASYRSA_KEY_SIZE=${1#rsa-}")
  case $1 in ec-p256) algo=(EASYRSA_ALGO=ec EASYRSA_CURVE=prime256v1) ;; ec-p384) algo=(EASYRSA_ALGO=ec EASYRSA_CURVE=secp384r1) ;; esac
  (cd "$d" && env EASYRSA_BATCH=1 EASYRSA_PKI="$d/pki" "${algo[@]}" "$EASYRSA" init-pki >/dev/null 2>&1 &&
    env EASYRSA_BATCH=1 EASYRSA_PKI="$d/pki" EASYRSA_REQ_CN=ca "${algo[@]}" "$EASYRSA" build-ca nopass >/dev/null 2>&1)
  local t0; t0=$(now)
  for i in $(seq "$N"); do
    (cd "$d" && env EASYRSA_BATCH=1 EASYRSA_PKI="$d/pki" "${algo[@]}" "$EASYRSA" build-client-full "alice$i" nopass >/dev/null 2>&1)
  done
  per "$t0" "$(now)" "$N"
}
floor() { python3 -c "print(f'{float(\"$("$KEYGEN" "$1" "$N" "$2" "$3")\") / $N * 1000:.2f}')"; }
CORES=$(nproc)

echo "# atlas-ca benchmark: $(date -u +%Y-%m-%dT%H:%MZ), $CORES cores, $(openssl version), N=$N"
echo
echo "Milliseconds per certificate (lower is better); ratio = tool / atlas-ca (per process)."
echo "Floors: key generation alone, on 1 thread; one key at a time on all $CORES cores (what one"
echo "atlas-ca process does); keys side by side on all cores (what fixtures does). fixtures: median of $REPEAT runs."
echo
echo "| key type | floor 1 thread | floor one at a time | atlas-ca (process each) | atlas-ca fixtures -j1 | atlas-ca fixtures -j$CORES | floor side by side | openssl CLI | mkcert | easy-rsa |"
echo "|---|---|---|---|---|---|---|---|---|---|"
overheads=()
for t in $TYPES; do
  f1=$(floor "$t" 1 serial); fs=$(floor "$t" "$CORES" serial); ap=$(atlas_process "$t")
  read -r j1 jn < <(fixtures_pair "$t" "$CORES"); fp=$(floor "$t" "$CORES" parallel)
  os=$(openssl_pipeline "$t"); mk=$(mkcert_run "$t"); er=$(easyrsa_run "$t")
  r() { [ "$1" = "-" ] && echo "-" || echo "$1 ($(ratio "$1" "$ap"))"; }
  echo "| $t | $f1 | $fs | $ap | $j1 | $jn | $fp | $(r "$os") | $(r "$mk") | $(r "$er") |"
  over() { python3 -c "print(f'{$1-$2:+.2f} ms ({($1-$2)/$2*100:+.1f} %)' if $2 > 0 else '-')"; }
  overheads+=("| $t | $(over "$ap" "$fs") | $(over "$j1" "$f1") | $(over "$jn" "$fp") | $(ratio "$j1" "$jn") |")
done
echo
echo "| atlas-ca over its floor | process each | fixtures -j1 | fixtures -j$CORES | speed-up -j$CORES/-j1 |"
echo "|---|---|---|---|---|"
printf '%s\n' "${overheads[@]}"

echo
echo "## Targets, side by side in this run"
echo
rows=()
for t in $TYPES; do
  case $t in
    rsa-2048) rows+=("| rsa-2048: mkcert / atlas-ca (process each) | $(ratio "$(mkcert_run rsa-2048)" "$(atlas_process rsa-2048)") | at least 2.5x |") ;;
    rsa-4096) rows+=("| rsa-4096: openssl CLI / atlas-ca (process each) | $(ratio "$(openssl_pipeline rsa-4096)" "$(atlas_process rsa-4096)") | at least 4x |") ;;
  esac
done
# fixtures ec-p256 against what the CA's RSA-4096 signatures alone allow on
# every core (openssl speed -multi), measured just before and just after
# each of five runs (the bound is their mean); the median share is the
# target's figure, the range shows the machine's noise.
FX=${FX:-300}
shares=()
for _ in 1 2 3 4 5; do
  speed() { openssl speed -multi "$CORES" -seconds 2 rsa4096 2>/dev/null | awk '/^rsa 4096/ {print $6}'; }
  before=$(speed); fx=$(N=$FX atlas_fixtures ec-p256 "$CORES"); after=$(speed)
  shares+=("$(python3 -c "import sys; b,a,f=map(float,sys.argv[1:]); print(f'{1000/((b+a)/2)/f*100:.0f}')" "$before" "$after" "$fx")")
done
rows+=("| fixtures ec-p256 ($FX, -j$CORES) against the signing bound, 5 runs | median $(python3 -c "import statistics,sys; print(statistics.median(map(float,sys.argv[1:])))" "${shares[@]}") % (runs: ${shares[*]} %) | at least 90 % |")
if command -v strace >/dev/null; then
  h=$(new_home); "$ATLAS" --home "$h" dbusers certs create --username alice --key-type ec-p256 >/dev/null 2>&1
  syncs() { strace -f -qq -e trace=fsync,fdatasync,syncfs,sync_file_range,msync -o "$h/strace" "$ATLAS" --home "$h" dbusers certs create --username alice --key-type ec-p256 "$@" >/dev/null; grep -c sync "$h/strace"; }
  rows+=("| fsyncs of one create on a warm home, --out / stdout | $(syncs --out "$h/x.pem") / $(syncs) | at most 3 |")
fi
echo "| what | measured | target |"; echo "|---|---|---|"
printf '%s\n' "${rows[@]}"

echo
echo "## RSA key generation: atlas-ca's generator against OpenSSL's RSA_generate_key"
echo
echo "| key type | RSA_generate_key, 1 thread | atlas-ca, 1 thread | atlas-ca, $CORES cores |"
echo "|---|---|---|---|"
for t in $TYPES; do
  case $t in rsa-*) echo "| $t | $(floor "$t" 1 openssl) | $(floor "$t" 1 serial) | $(floor "$t" "$CORES" serial) |" ;; esac
done

echo
echo "## One certificate, cold (new CA + first certificate, RSA-4096)"
echo
h=$(new_home); t0=$(now); "$ATLAS" --home "$h" dbusers certs create --username alice >/dev/null 2>&1; ac=$(per "$t0" "$(now)" 1)
d=$WORK/cold-ossl; mkdir -p "$d"; t0=$(now)
openssl req -x509 -newkey rsa:4096 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -subj "/CN=ca" -days 3650 2>/dev/null
openssl req -newkey rsa:4096 -nodes -keyout "$d/k.pem" -subj "/CN=alice" -out "$d/r.csr" 2>/dev/null
openssl x509 -req -in "$d/r.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 90 -out "$d/c.pem" 2>/dev/null
oc=$(per "$t0" "$(now)" 1)
echo "| tool | ms |"; echo "|---|---|"; echo "| atlas-ca | $ac |"; echo "| openssl CLI (CA + cert) | $oc |"

echo
echo "## Server: $SERVER_N sequential creates over HTTP (curl --digest), against Atlas's ~0.9 s"
echo
server_run() { # $1 = key pool size; prints median and mean seconds
  local h; h=$(new_home)
  printf '[[apiKeys]]\npublicKey = "b"\nprivateKey = "s"\nroles = [{ roleName = "GROUP_OWNER", groupId = "%s" }]\n' "$GID" >> "$h/users.toml"
  "$ATLAS" --home "$h" ca cert >/dev/null 2>&1
  "$ATLAS" --home "$h" serve --listen 127.0.0.1:0 --key-pool "$1" > "$h/url" 2>/dev/null &
  local pid=$!; sleep 1
  local url; url=$(head -1 "$h/url")/api/atlas/v2/groups/$GID/databaseUsers/alice/certs
  # A full pool: wait as long as filling it takes (about one key a second).
  [ "$1" -gt 0 ] && sleep $(( $1 * 3 / 2 + 2 ))
  for _ in $(seq "$SERVER_N"); do
    # Every Atlas client sends a versioned Accept; without one, 406.
    curl -sf -o /dev/null -w '%{time_total}\n' --digest --user b:s -X POST \
      -H "Accept: $ACCEPT_V2" "$url" || { echo "a create failed" >&2; exit 1; }
  done > "$h/times"
  python3 -c "import statistics,sys; t=[float(x) for x in open(sys.argv[1])]; print(f'{statistics.median(t)*1000:.1f} ms median, {statistics.mean(t)*1000:.1f} ms mean')" "$h/times"
  # List throughput: 4 concurrent clients, 200 requests each.
  local py=${PYTHON:-target/tmp/test-venv/bin/python}
  if [ "$1" -gt 0 ] && "$py" -c "import requests" 2>/dev/null; then
    "$py" - "$url" "$ACCEPT_V2" <<'EOF' >&2
import sys, time, threading, requests
from requests.auth import HTTPDigestAuth
url = sys.argv[1]
def client(n):
    s = requests.Session(); a = HTTPDigestAuth("b", "s")
    for _ in range(n):
        assert s.get(url, auth=a, headers={"Accept": sys.argv[2]}).status_code == 200
t = time.time(); th = [threading.Thread(target=client, args=(200,)) for _ in range(4)]
[x.start() for x in th]; [x.join() for x in th]
print(f"list: {800 / (time.time() - t):.0f} requests/s with 4 concurrent clients")
EOF
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
echo "- warm pool (--key-pool $SERVER_N, full): $(server_run "$SERVER_N")"
echo "- no pool (--key-pool 0): $(server_run 0)"

echo
echo "## Registry edits: dbusers create + delete on a registry of 100 projects of 100 users"
echo
# Every project full but the last, which has room for one: each round
# creates a user there and deletes it again (both rewrite the whole file).
big=$WORK/big-home
mkdir -p "$big"
python3 - "$big/users.toml" <<'PY'
import sys
out = ["# A large registry: 100 projects of 100 users (the last one 99).\n"]
for p in range(100):
    out.append(f'\n[[projects]]\nid = "{p:024x}"\nname = "project {p}"   # comment\n')
    for u in range(100 if p < 99 else 99):
        out.append(f'[[projects.databaseUsers]]\nusername = "user{u}"\nx509Type = "MANAGED"\nroles = [{{ roleName = "readWrite", databaseName = "app" }}]\n')
open(sys.argv[1], "w").write("".join(out))
PY
EDITS=${EDITS:-20}
last=$(printf '%024x' 99)
t0=$(now)
for i in $(seq "$EDITS"); do
  "$ATLAS" --home "$big" dbusers create --username bench --x509Type MANAGED --role readWrite@app --projectId "$last" >/dev/null
  "$ATLAS" --home "$big" dbusers delete bench --force --authDB '$external' --projectId "$last" >/dev/null
done
t1=$(now)
t2=$(now)
for i in $(seq "$EDITS"); do "$ATLAS" --home "$big" dbusers list --projectId "$last" >/dev/null; done
t3=$(now)
echo "- registry: $(wc -c < "$big/users.toml") bytes, $(wc -l < "$big/users.toml") lines"
echo "- one edit (create or delete, whole process): $(per "$t0" "$t1" $((EDITS * 2))) ms"
echo "- one read-only command on the same registry (dbusers list): $(per "$t2" "$t3" "$EDITS") ms"

echo
echo "## pki apply: the drivers' and mongod's test PKIs (examples/pki/)"
echo
# Against the openssl CLI making as many rsa-2048 certificates one by one
# (genpkey, req, x509 -req each); its encrypted keys, PKCS#12, bundle and
# CRL steps are left out, so the openssl side is a lower bound. Medians of
# 3 runs.
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float,sys.argv[1:])):.0f}')" "$@"; }
median3() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float,sys.argv[1:])):.2f}')" "$@"; }
# A Python with `cryptography` (the tests' venv, made if missing).
PY=$PWD/target/tmp/test-venv/bin/python
if ! "$PY" -c "import cryptography" 2>/dev/null; then
  python3 -m venv target/tmp/bench-venv && target/tmp/bench-venv/bin/pip install -q cryptography
  PY=$PWD/target/tmp/bench-venv/bin/python
fi
for example in drivers-x509gen mongod-jstests mongod-main; do
  PKI_EXAMPLE=$PWD/examples/pki/$example.toml
  certs=$(grep -c '^\[\[cert\]\]' "$PKI_EXAMPLE")
  pki=() seeded=() ossl=()
  for _ in 1 2 3; do
    t0=$(now)
    "$ATLAS" pki apply "$PKI_EXAMPLE" --out "$WORK/pki-$RANDOM$RANDOM" 2>/dev/null
    pki+=("$(per "$t0" "$(now)" 1)")
    # Seeded (a new seed each run: key searches vary with it), side by side.
    t0=$(now)
    "$ATLAS" pki apply "$PKI_EXAMPLE" --out "$WORK/pki-$RANDOM$RANDOM" \
      --seed "bench-$RANDOM$RANDOM" --now 2026-06-01T00:00:00Z 2>/dev/null
    seeded+=("$(per "$t0" "$(now)" 1)")
    ossl+=("$(python3 -c "print(float('$(N=$certs openssl_pipeline rsa-2048)') * $certs)")")
  done
  pm=$(median "${pki[@]}"); sm=$(median "${seeded[@]}"); om=$(median "${ossl[@]}")
  echo "- $example ($certs certificates): atlas-ca pki apply $pm ms, seeded $sm ms ($(ratio "$sm" "$pm") of unseeded); openssl CLI one by one $om ms ($(ratio "$om" "$pm"))"
done

echo
echo "## pki apply on one core: CPU seconds against its floor"
echo
# Pinned to core 0 (taskset -c 0), user+system CPU seconds of pki apply
# of each example, against the floor: the same keys (counted per key type
# from the example) generated in one process by atlas-ca's generator
# (benches/keygen, serial, one thread), and by Python's `cryptography`
# (OpenSSL's RSA_generate_key: what mkcert.py's keys cost). Medians of 3.
cpu() { /usr/bin/time -f "%U %S" "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2}'; }
key_counts() { # "type count" lines: each [[cert]]'s key, else [defaults]'
  python3 - "$1" <<'PY'
import sys, tomllib, collections
doc = tomllib.load(open(sys.argv[1], "rb"))
default = doc.get("defaults", {}).get("key", "rsa-2048")
names = {c["name"] for c in doc.get("cert", [])}
counts = collections.Counter()
for c in doc.get("cert", []):
    if c.get("issuer") == "atlas":
        continue
    key = c.get("key", default)
    if key not in names:  # a key of its own, not another table's
        counts[key] += 1
for k, n in counts.items():
    print(k, n)
PY
}
for example in drivers-x509gen mongod-jstests mongod-main; do
  PKI_EXAMPLE=$PWD/examples/pki/$example.toml
  apply=() floor=() crypto=()
  for _ in 1 2 3; do
    apply+=("$(cpu taskset -c 0 "$ATLAS" pki apply "$PKI_EXAMPLE" --out "$WORK/pki-$RANDOM$RANDOM")")
    f=0 c=0
    while read -r type n; do
      f=$(python3 -c "print($f + $(cpu taskset -c 0 "$KEYGEN" "$type" "$n" 1 serial))")
      case $type in
        rsa-*) gen="rsa.generate_private_key(65537, ${type#rsa-})" ;;
        ec-p256) gen="ec.generate_private_key(ec.SECP256R1())" ;;
        ec-p384) gen="ec.generate_private_key(ec.SECP384R1())" ;;
        *) gen="ed25519.Ed25519PrivateKey.generate()" ;;
      esac
      c=$(python3 -c "print($c + $(cpu taskset -c 0 "$PY" -c "from cryptography.hazmat.primitives.asymmetric import rsa, ec, ed25519
for _ in range($n): $gen"))")
    done < <(key_counts "$PKI_EXAMPLE")
    floor+=("$f"); crypto+=("$c")
  done
  am=$(median3 "${apply[@]}"); fm=$(median3 "${floor[@]}"); cm=$(median3 "${crypto[@]}")
  echo "- $example: pki apply ${am} s CPU; its keys alone ${fm} s (atlas-ca's generator), ${cm} s (cryptography, mkcert.py's); pki apply is $(ratio "$cm" "$am") faster than cryptography's keys alone"
done

echo
echo "## local-kit: a 3-member replica set and a sharded cluster (rsa-2048)"
echo
# The kit's certificates (one per process and one per user: alice) against
# the openssl CLI making as many one by one; the openssl side writes no
# configs or scripts, so it is a lower bound. Medians of 3 runs.
for shape in "--replset rs0 --members 3" "--sharded --shards 2 --members 3"; do
  kit=() ossl=() files=0
  for _ in 1 2 3; do
    h=$(new_home); "$ATLAS" --home "$h" ca cert >/dev/null 2>&1
    t0=$(now)
    # shellcheck disable=SC2086
    "$ATLAS" --home "$h" local-kit --out "$h/kit" --key-type rsa-2048 $shape 2>/dev/null
    kit+=("$(per "$t0" "$(now)" 1)")
    files=$(find "$h/kit" -type f | wc -l)
    certs=$(find "$h/kit/members" "$h/kit/users" -name '*.pem' | wc -l)
    ossl+=("$(python3 -c "print(float('$(N=$certs openssl_pipeline rsa-2048)') * $certs)")")
  done
  km=$(median "${kit[@]}"); om=$(median "${ossl[@]}")
  echo "- local-kit $shape: $certs certificates, $files files in $km ms; openssl CLI, the certificates alone, $om ms ($(ratio "$om" "$km"))"
done
