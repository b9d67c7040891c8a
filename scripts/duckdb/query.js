// Runs SQL queries against an edr recording with DuckDB and prints one JSON
// object per query, one per line. Used by recording/duckdb_test.go.
//
//   node scripts/duckdb/query.js <recording-dir> <sql> [<sql> ...]
//
// In each query, the token REC is replaced by
//   read_parquet('<dir>/**/*.parquet', hive_partitioning = true)
// i.e. the whole recording as one table.
'use strict';
const path = require('path');
const { DuckDBInstance } = require('@duckdb/node-api');

async function main() {
  const [dir, ...queries] = process.argv.slice(2);
  if (!dir || queries.length === 0) {
    console.error('usage: query.js <recording-dir> <sql>...');
    process.exit(2);
  }
  const glob = path.join(dir, '**', '*.parquet').replace(/'/g, "''");
  const table = `read_parquet('${glob}', hive_partitioning = true)`;
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  for (const q of queries) {
    const reader = await conn.runAndReadAll(q.replaceAll('REC', table));
    console.log(JSON.stringify({ query: q, rows: reader.getRowObjectsJson() }));
  }
}

main().catch((err) => {
  console.error(err && err.message ? err.message : err);
  process.exit(1);
});
