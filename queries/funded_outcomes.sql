-- Headline survey outcome for cohorts started in [period_start, period_end): participants with
-- both a pre and a post survey (pairs), how many improved (mean post > mean pre over the items
-- answered in both), and the mean and SD of the change. Aggregates only, from cohort_role_summary.
WITH sums AS (
    SELECT sum(r.pairs) AS pairs, sum(r.improved) AS improved, sum(r.sum_change) AS total, sum(r.sum_squared_change) AS squares
    FROM cohort_role_summary r
    JOIN cohorts c USING (cohort_id)
    WHERE c.start_date >= $period_start AND c.start_date < $period_end
)
SELECT
    coalesce(pairs, 0)::BIGINT AS pairs,
    coalesce(improved, 0)::BIGINT AS improved,
    total / nullif(pairs, 0) AS mean_change,
    CASE WHEN pairs > 1 THEN sqrt(greatest((squares - total * total / pairs) / (pairs - 1), 0)) END AS sd_change
FROM sums
