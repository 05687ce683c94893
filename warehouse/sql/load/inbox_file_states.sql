select source_file, size, mtime_ns, bytes_sha256, doc_id from inbox_files
