insert into inbox_files
select source_file, size, mtime_ns, bytes_sha256, doc_id, seen_at from inbox_file_batch
