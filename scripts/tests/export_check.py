"""Topic-filtered vector search over a `strata export` Parquet file in DuckDB and in LanceDB, with the
glue a user writes (docs/inspect.md shows the same lines). Prints {"duckdb": [ids], "lancedb": [ids]}.
    python3 scripts/tests/export_check.py EXPORT.parquet TOPIC_ID QUERY_DOC_ID K"""
import json, sys, tempfile

import duckdb
import lancedb
import pyarrow.parquet as pq

path, topic, doc, k = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
# The query vector: the stored vector of one document (strata search embeds that document's text).
q = duckdb.execute("SELECT vector FROM read_parquet(?) WHERE id = ?", [path, doc]).fetchone()[0]

# DuckDB: one query.
hits = duckdb.execute("SELECT id FROM read_parquet(?) WHERE topic_id = ? ORDER BY list_cosine_similarity(vector, ?::FLOAT[]) DESC LIMIT ?",
                      [path, topic, q, k]).fetchall()
duck = [h[0] for h in hits]

# LanceDB: load the file as a table, search with a topic prefilter.
table = lancedb.connect(tempfile.mkdtemp()).create_table("docs", pq.read_table(path))
lance = [r["id"] for r in table.search(q).metric("cosine").where(f"topic_id = {topic}", prefilter=True).limit(k).to_list()]

print(json.dumps({"duckdb": duck, "lancedb": lance, "rows": table.count_rows()}))
