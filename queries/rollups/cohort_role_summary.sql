-- Per cohort and role: participants, how many answered a pre survey, how many have a paired
-- pre-to-post change, how many improved, and the sum and sum of squares of the changes, so any
-- set of cohorts gives its counts, mean and SD by adding rows.
SELECT
    p.cohort_id,
    p.role,
    count(*) AS participants,
    count(*) FILTER (WHERE pc.answered_pre) AS answered_pre,
    count(pc.change) AS pairs,
    count(*) FILTER (WHERE pc.change > 0) AS improved,
    coalesce(sum(pc.change), 0) AS sum_change,
    coalesce(sum(pc.change * pc.change), 0) AS sum_squared_change
FROM participants p
LEFT JOIN participant_survey_change pc USING (participant_id)
GROUP BY ALL
ORDER BY p.cohort_id, p.role
