-- Rows of one extract that failed validation: where they came from, their values and why.
SELECT source_file, source_row, row_values, array_to_string(problems, '; ') AS problems
FROM rejected_rows
WHERE table_name = $table_name
  AND $scope_role = 'admin'  -- rejected rows carry raw values: administrators only
ORDER BY source_file, source_row
LIMIT $max_rows
