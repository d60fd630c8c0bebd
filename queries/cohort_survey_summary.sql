-- Per chosen cohort: participants, pre responders, paired participants (pre and post), and the
-- mean paired change (per participant: mean post - mean pre over items answered in both),
-- added up from the cohort_role_summary rollup.
SELECT
    c.cohort_id,
    sum(r.participants)::BIGINT AS participants,
    sum(r.answered_pre)::BIGINT AS answered_pre,
    sum(r.pairs)::BIGINT AS pairs,
    sum(r.sum_change) / nullif(sum(r.pairs), 0) AS mean_change
FROM cohorts c
JOIN cohort_role_summary r USING (cohort_id)
WHERE list_contains($prison_ids, c.prison_id)
  AND ($wing_ids IS NULL OR list_contains($wing_ids, c.wing_id))
  AND c.start_date >= $period_start AND c.start_date < $period_end
  AND ($scope_prisons IS NULL OR list_contains($scope_prisons, c.prison_id) OR c.sdm = $scope_sdm)  -- cohorts the viewer may see in detail
  AND ($sdm IS NULL OR c.sdm = $sdm)
  AND ($cohort_id IS NULL OR c.cohort_id = $cohort_id)
  AND ($role IS NULL OR r.role = $role)
GROUP BY c.cohort_id
ORDER BY c.cohort_id
