-- Paired pre-to-post survey change, per role and for everyone (role NULL).
-- A participant's change = mean post score - mean pre score over the items answered in both
-- waves; only participants with both waves count (a pair). Added up from the cohort_role_summary
-- rollup (counts, sum and sum of squares of the changes), so no id leaves the query.
WITH chosen AS (
    SELECT r.*
    FROM cohort_role_summary r
    JOIN cohorts c USING (cohort_id)
    WHERE in_chosen_places(c.prison_id, c.wing_id, $prison_ids, $wing_ids, $scope_prisons)
      AND c.start_date >= $period_start AND c.start_date < $period_end
),
sums AS (
    SELECT role, sum(participants) AS participants, sum(pairs) AS pairs, sum(sum_change) AS total, sum(sum_squared_change) AS squares
    FROM chosen
    GROUP BY GROUPING SETS ((role), ())
)
SELECT
    role,
    coalesce(participants, 0)::BIGINT AS participants,
    coalesce(pairs, 0)::BIGINT AS pairs,
    total / nullif(pairs, 0) AS mean_change,
    CASE WHEN pairs > 1 THEN sqrt(greatest((squares - total * total / pairs) / (pairs - 1), 0)) END AS sd_change
FROM sums
ORDER BY role NULLS FIRST
