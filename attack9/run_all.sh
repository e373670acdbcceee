#!/bin/sh
# Run every attack from the worktree root: sh attack9/run_all.sh   (ATK9_PG=127.0.0.1:PORT to use a throwaway
# PostgreSQL server for the races and the NUL checks; each script makes its own database there)
cd "$(dirname "$0")/.." || exit 1
PY=${PY:-/work/main/.venv/bin/python}
for f in attack9/[0-9][0-9]_*.py; do
  echo "=== $f"
  PYTHONPATH=$PWD "$PY" "$f" 2>&1 | grep -E '^(HELD|BROKEN|--)'
done
