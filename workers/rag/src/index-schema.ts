/**
 * The TenantIndex's SQLite schema, applied by `migrateSchema` (@crispy/storage) in its
 * constructor (a newer version is added as another step, never by editing one).
 *
 * - `documents`: one row per document (the DocumentRecord fields; metadata as JSON); `position`
 *   orders the list newest-upserted first.
 * - `document_metadata`: the same metadata, one row per key with the value as JSON text, indexed by
 *   (key, value) so equality filters are index lookups.
 * - `chunks`: the current version's chunks only, with provenance, token count and — for the
 *   durable-object vector backend — the embedding as a little-endian Float32 BLOB.
 * - `chunks_fts`: FTS5 over chunk text for BM25, external-content (reads text from `chunks` by
 *   rowid = `chunks.seq`, so the text is stored once); kept in step by hand in the same
 *   transaction as every chunk insert and delete.
 * - `counters.index_version`: bumped by every upsert that changed something and every delete.
 */
export const SCHEMA_V1 = `
  CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    source TEXT,
    url TEXT,
    metadata TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    version INTEGER NOT NULL,
    chunk_count INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    position INTEGER NOT NULL UNIQUE
  );
  CREATE TABLE document_metadata (
    doc_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (doc_id, key)
  ) WITHOUT ROWID;
  CREATE INDEX document_metadata_by_value ON document_metadata (key, value);
  CREATE TABLE chunks (
    seq INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    text TEXT NOT NULL,
    start_offset INTEGER NOT NULL,
    end_offset INTEGER NOT NULL,
    heading_path TEXT NOT NULL,
    page INTEGER,
    tokens INTEGER NOT NULL,
    embedding BLOB,
    UNIQUE (doc_id, chunk_id)
  );
  CREATE INDEX chunks_by_document ON chunks (doc_id, ordinal);
  CREATE VIRTUAL TABLE chunks_fts USING fts5(
    text,
    content = 'chunks',
    content_rowid = 'seq',
    tokenize = 'porter unicode61 remove_diacritics 2'
  );
  CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
  INSERT INTO counters (name, value) VALUES ('index_version', 0);
`;
