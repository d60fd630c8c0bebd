-- Published reoffending analyses (the Justice Data Lab's matched comparisons) of a programme, one row per
-- analysis and measure, newest first: group sizes, both groups' values and the 95% interval of the
-- difference, as published. Each result is about a group of at least 60 people.
SELECT
    analysis_id,
    title,
    published_on,
    measure,
    treatment_n,
    comparison_n,
    treatment_value,
    comparison_value,
    treatment_value - comparison_value AS difference,
    difference_low,
    difference_high,
    p_value,
    source_url
FROM reoffending
WHERE programme = $programme
ORDER BY published_on DESC, analysis_id, measure
