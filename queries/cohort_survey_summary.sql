-- Per chosen cohort: participants, pre responders, paired participants (pre and post), and the
-- mean paired change (per participant: mean post - mean pre over items answered in both),
-- added up from the cohort_role_summary rollup.
SELECT
    c.cohort_id,
    sum(r.participants)::BIGINT AS participants,
    sum(r.answered_pre)::BIGINT AS answered_pre,
    sum(r.pairs)::BIGINT AS pairs,
    sum(r.sum_change) / nullif(sum(r.pairs), 0) AS mean_change
FROM chosen_cohorts($prison_ids, $wing_ids, $period_start, $period_end, $scope_prisons, $scope_sdm, $sdm, $cohort_id) c
JOIN cohort_role_summary r USING (cohort_id)
WHERE ($role IS NULL OR r.role = $role)
GROUP BY c.cohort_id
ORDER BY c.cohort_id
