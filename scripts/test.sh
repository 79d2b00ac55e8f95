#!/usr/bin/env bash
# The project's whole test suite: `npm test`. Build, layering check, TypeScript tests (unit,
# supervisor, end-to-end on real pytest projects), and the pytest plugin's own tests.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== build"
npx tsc -p tsconfig.json

echo "== layering (dependency-cruiser)"
npx depcruise src --config .dependency-cruiser.cjs

echo "== python plugin tests"
python3 -m pytest -q -p pytester python/tests

echo "== typescript tests"
# Unit tests are pure and fast; e2e tests start real pytest processes, so they run one file at a
# time on the 2-core machines rather than stampeding them.
node --test --test-concurrency=1 $(find dist/test -name '*.test.js' | sort)
