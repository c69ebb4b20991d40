#!/usr/bin/env bash
# What the change journal costs one grant, in CPU instructions counted by callgrind: the same
# count to about 1% on every run, whatever else the machine is doing, where grant throughput
# on a shared two-core machine swings by more than the effect (bench/RESULTS.md, "The journal
# without a row per grant").
#
# A private cluster (initdb in a temporary directory, its own port) gets 2,000 accounts from
# `igny8 seed legacy` and `igny8 migrate`. Then a single-user backend runs the credit service's
# statement (the balance update and the ledger row in one statement) under callgrind, one
# transaction per grant, N and 2N times: (count of the 2N run - count of the N run) / N is one
# grant, without the backend's start. Twice: each statement parsed and planned, as knex sends
# the service's; and from a cached plan, as a prepared statement runs (a PL/pgSQL loop).
# synchronous_commit is off: a commit's wait for the disk is no instruction.
#
#   bash bench/journal-instructions.sh [N]        (after npm run build; N defaults to 400)
#
# Needs valgrind and PostgreSQL's server binaries; as root, the cluster runs as `postgres`.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-400}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
command -v valgrind >/dev/null || { echo "valgrind is missing (apt-get install valgrind)" >&2; exit 2; }
[ -f dist/audit/journal.js ] || { echo "run npm run build first" >&2; exit 2; }

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
dir=$(mktemp -d /tmp/igny8-journal-XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres "$dir"
trap 'as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
port=$((20000 + RANDOM % 12000))
as_postgres "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" -w start >/dev/null
url="postgres://postgres@127.0.0.1:$port/postgres"
export IGNY8_SECRET_KEY=${IGNY8_SECRET_KEY:-$(printf 'ab%.0s' {1..32})}
node bin/igny8 --quiet --json seed legacy --accounts 2000 --defect-rate 0 -d "$url" >/dev/null
node bin/igny8 --quiet migrate -d "$url" >/dev/null
as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null

# The credit service's mark (src/audit/journal.ts), as the built igny8 has it.
marked="and $(node --input-type=module -e "console.log((await import('./dist/audit/journal.js')).LEDGERED_STATEMENT)")"

# setup: the journal's triggers on the two tables a grant writes, as each state has them.
off="alter table igny8_accounts disable trigger igny8_journal_update;
drop trigger if exists igny8_journal_insert on igny8_credit_transactions;"
before="alter table igny8_accounts enable trigger igny8_journal_update;
drop trigger if exists igny8_journal_insert on igny8_credit_transactions;
create trigger igny8_journal_insert after insert on igny8_credit_transactions referencing new table as new_rows
  for each statement execute function igny8_journal_inserted('account_id');"
now="alter table igny8_accounts enable trigger igny8_journal_update;
drop trigger if exists igny8_journal_insert on igny8_credit_transactions;"

statement() { # the credit service's statement (src/domain/credits.ts) for account $1, with $where
  echo "with moved as (update igny8_accounts set credits = credits + 1, updated_at = now()
        where id = $1 and credits + 1 >= 0 $where returning id, credits),
      entry as (insert into igny8_credit_transactions (account_id, transaction_type, amount, balance_after, description, metadata)
        select id, 'adjustment', 1, credits, 'journal cost', '{}'::jsonb from moved returning *)
      select (select credits from moved) into b from (select 1) as one left join entry on true"
}

grants() { # $1 grants, $2 form: each statement parsed, planned and committed (as knex sends them), or a plan cached (prepared)
  if [ "$2" = planned ]; then
    for i in $(seq 1 "$1"); do printf '%s;\n\n' "$(statement $((1 + i % 2000)) | sed 's/ into b / /')"; done
  else
    printf '%s\n\n' "do \$\$ declare b int; begin
      for i in 1..$1 loop $(statement '1 + (i % 2000)'); commit; end loop; end \$\$;"
  fi
}

count() { # $1 setup, $2 form, $3 grants
  { printf '%s\n\n' "$1" "set synchronous_commit = off;"; grants 50 "$2"; grants "$3" "$2"; } > "$dir/in.sql"
  as_postgres valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin/postgres" --single -j -D "$dir/data" postgres \
    < "$dir/in.sql" 2>&1 >/dev/null | awk '/Collected/ { print $4 }'
}

per_grant() { # $1 setup, $2 form
  local a b
  a=$(count "$1" "$2" "$n")
  b=$(count "$1" "$2" $((2 * n)))
  echo $(((b - a) / n))
}

printf '%-58s %12s %6s %12s %6s\n' 'instructions per grant' 'planned' '' 'prepared' ''
where=''
base_planned=$(per_grant "$off" planned)
base_prepared=$(per_grant "$off" prepared)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
row() { # $1 label, $2 setup, $3 the statement's mark (or nothing)
  local planned prepared
  where=${3:-}
  planned=$(per_grant "$2" planned)
  prepared=$(per_grant "$2" prepared)
  printf '%-58s %12s %6s %12s %6s\n' "$1" "$planned" "$(ratio "$planned" "$base_planned")" "$prepared" "$(ratio "$prepared" "$base_prepared")"
}
printf '%-58s %12s %6s %12s %6s\n' 'no journal (its triggers off)' "$base_planned" '1.00x' "$base_prepared" '1.00x'
row "0070's journal (the ledger's and the accounts' triggers)" "$before"
row "0074's journal, a statement not marked (a grant by hand)" "$now"
row "0074's journal, the credit service's statement (marked)" "$now" "$marked"
