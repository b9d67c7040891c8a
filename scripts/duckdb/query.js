// Runs SQL queries against an edr recording with DuckDB and prints one JSON
// object per query, one per line. Used by recording/duckdb_test.go.
//
//   node scripts/duckdb/query.js <recording-dir> <sql> [<sql> ...]
//
// In each query, the token REC is replaced by
//   read_parquet('<dir>/host=*/date=*/*.parquet', hive_partitioning = true)
// i.e. the recording's normalized events as one table, and the token RAW by
//   read_parquet('<dir>/raw/host=*/date=*/*.parquet', hive_partitioning = true)
// its raw layer (raw ETW records, recording/doc.go).
'use strict';
const path = require('path');
const { DuckDBInstance } = require('@duckdb/node-api');

function parquetTable(glob) {
  return `read_parquet('${glob.replace(/'/g, "''")}', hive_partitioning = true)`;
}

async function main() {
  const [dir, ...queries] = process.argv.slice(2);
  if (!dir || queries.length === 0) {
    console.error('usage: query.js <recording-dir> <sql>...');
    process.exit(2);
  }
  const table = parquetTable(path.join(dir, 'host=*', 'date=*', '*.parquet'));
  const rawTable = parquetTable(path.join(dir, 'raw', 'host=*', 'date=*', '*.parquet'));
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  for (const q of queries) {
    // One pass, so a path holding "REC" or "RAW" is not replaced again.
    const sql = q.replace(/REC|RAW/g, (m) => (m === 'REC' ? table : rawTable));
    const reader = await conn.runAndReadAll(sql);
    console.log(JSON.stringify({ query: q, rows: reader.getRowObjectsJson() }));
  }
}

main().catch((err) => {
  console.error(err && err.message ? err.message : err);
  process.exit(1);
});
