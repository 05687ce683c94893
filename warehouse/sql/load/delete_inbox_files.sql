delete from inbox_files where list_contains($source_files, source_file)
